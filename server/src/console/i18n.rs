//! The console's words in Japanese (the default) and English: one table, one variant per message, so a
//! message missing in either language does not compile. Errors from the CA and the access decision keep their
//! own (English) text, which says what to do; the table covers the console's own chrome, labels and notices.

use axum::http::HeaderMap;
pub use hcpki_html::Lang;
pub use hcpki_html::lang::query_lang;
use hcpki_html::messages;

/// The cookie that keeps the language chosen with the switch.
pub const COOKIE: &str = "hcpki_console_lang";

/// The page language of a console request: the `lang` query parameter (the switch), then the cookie it set,
/// then the browser's `Accept-Language` (the rule is [`Lang::negotiate`]'s, shared with the card agent's pages).
pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
    let chosen = query.and_then(query_lang).map(Lang::code);
    let cookie = crate::portal::cookie::cookie_value(headers, COOKIE);
    let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::negotiate(chosen, cookie.as_deref(), accept)
}

messages! {
    Console => "hcpki 管理コンソール", "hcpki console";
    SkipToMain => "本文へ移動", "Skip to content";
    MainMenu => "メニュー", "Main menu";
    Home => "ホーム", "Home";
    Applications => "申請一覧", "Applications";
    Facilities => "施設検索", "Facilities";
    Certificates => "証明書検索", "Certificates";
    Audit => "監査ログ", "Audit log";
    Logins => "ログイン履歴", "Login history";
    Apply => "施設の利用申請", "Apply for a facility";
    SignedInAs => "ログイン中:", "Signed in as";
    // Shown whenever no one is signed in, also on the page of a card sign-in that has ended, where the browser
    // may well have sent a certificate (a refused cookie never falls back to it, D42): so name both ways in.
    NotSignedIn => "ログインしていません。カードでログインするか、運用者証明書または施設の PC 証明書を選んでください。",
        "Not signed in: sign in with your card, or choose your operator certificate or your facility's PC certificate.";
    Operator => "運用者", "operator";
    Auditor => "監査担当", "auditor";
    FacilityAdmin => "施設管理者", "facility admin";
    Refused => "実行できませんでした", "Refused";
    Back => "戻る", "Back";
    // The console's own error pages (issue #45 item 6).
    NotFound => "ページが見つかりません", "Page not found";
    NotFoundHelp => "このアドレスのページはありません。アドレスを確かめるか、コンソールのホームから開き直してください。",
        "There is no page at this address. Check the address, or open the page again from the console's home.";
    MethodNotAllowed => "この操作はこのページではできません", "This page does not accept that request";
    TooLarge => "送信された内容が大きすぎます", "What was sent is too large";
    InternalError => "サーバーの内部エラーです", "Internal server error";
    InternalErrorHelp => "この操作はサーバーの不具合で完了しませんでした(記録済みです)。少し待ってからホームから開き直してください。続くときは、発生した時刻を添えて運用担当にご連絡ください。",
        "This request failed because of a fault in the server (it is logged). Wait a moment and open it again from the home page; if it keeps failing, tell the operators the time it happened.";
    MethodNotAllowedHelp => "ページを開き直し、ページのボタンから操作してください(入力した内容は送られていません)。",
        "Open the page again and use its buttons (nothing you typed was sent).";
    ToConsoleHome => "コンソールのホームへ戻る", "Back to the console's home";
    Id => "施設 ID", "Facility ID";
    Name => "名称", "Name";
    Kind => "種別", "Kind";
    MedicalCode => "医療機関コード", "Medical institution code";
    Address => "所在地", "Address";
    Contact => "連絡先", "Contact";
    State => "状態", "State";
    StateReason => "状態の理由", "Reason for the state";
    Changed => "最終変更", "Last change";
    Registered => "登録日時", "Registered";
    RouterDns => "ルータ DNS 名", "Router DNS name";
    Submit => "送信", "Submit";
    Search => "検索", "Search";
    AnyState => "すべての状態", "any state";
    NameContains => "名称に含む文字 または 施設 ID", "Name contains, or facility ID";
    Phone => "電話番号", "Telephone number";
    PhoneHint => "連絡先の電話番号で探します。ハイフン・空白・全角数字・+81 のどれで入力しても同じです(4 桁以上、番号の一部でも可)。",
        "Finds the facility whose contact holds this number. Hyphens, spaces, full-width digits and +81 are all fine (4 digits or more; part of a number will do).";
    PhoneBadCharacter => "電話番号には数字・空白・ハイフン・かっこだけを入力してください。名称で探すときは上の欄に入力してください。",
        "A telephone number holds only digits, spaces, hyphens and parentheses. To search by name, use the field above.";
    PhoneBadLength => "電話番号は 4 桁から 15 桁で入力してください(短すぎると多くの施設に当てはまります)。",
        "Type 4 to 15 digits of the telephone number (fewer would match too many facilities).";
    NoneFound => "該当するものはありません。", "Nothing found.";
    Approve => "承認", "Approve";
    Reject => "却下", "Reject";
    Suspend => "利用停止", "Suspend";
    Resume => "利用再開", "Resume";
    Retire => "廃止", "Retire";
    Reason => "理由", "Reason";
    ReasonHelp => "却下・利用停止・廃止には理由が必要です。", "A reason is required to reject, suspend or retire.";
    Lifecycle => "施設の状態変更", "Facility lifecycle";
    LifecycleHelp => "利用停止は全証明書を保留 (certificateHold)、廃止は全証明書を失効 (cessationOfOperation) します。",
        "Suspending holds every certificate (certificateHold); retiring revokes them (cessationOfOperation).";
    Devices => "機器 (証明書)", "Devices (certificates)";
    Serial => "シリアル番号", "Serial";
    Profile => "プロファイル", "Profile";
    Subject => "サブジェクト", "Subject";
    Names => "名前 (SAN)", "Names (SAN)";
    Status => "状態", "Status";
    Expires => "有効期限", "Expires";
    Expired => "期限切れ", "expired";
    Revoke => "失効", "Revoke";
    RevokeReason => "失効理由", "Revocation reason";
    // The revocation reasons a facility admin picks from, in words (issue #45 item 1); RFC 5280's names are the
    // values sent.
    ReasonKeyCompromise => "鍵の漏えい・紛失", "Key compromised or lost";
    ReasonCessation => "廃止(使わなくなった)", "Taken out of use";
    ReasonSuperseded => "交換(新しい証明書に置き換えた)", "Replaced by a new certificate";
    ReasonUnspecified => "その他", "Other";
    ChooseReason => "選んでください", "Choose one";
    Credentials => "登録用クレデンシャル", "Enrollment credentials";
    NewCredential => "登録用クレデンシャルの発行", "New enrollment credential";
    NewCredentialHelp => "機器 1 台に 1 つ。秘密情報は発行直後に一度だけ表示されます。",
        "One per device. The secret is shown once, right after it is made.";
    Protocol => "プロトコル", "Protocol";
    ValidFor => "有効期間 (例: 7d, 12h)", "Valid for (e.g. 7d, 12h)";
    Create => "発行", "Create";
    CreatedBy => "作成者", "Created by";
    CredentialMade => "登録用クレデンシャルを発行しました", "Enrollment credential created";
    ShownOnce => "この秘密情報は二度と表示されません。今すぐ機器に設定するか、安全に控えてください。",
        "This secret will not be shown again: configure the device now or store it safely.";
    Endpoints => "接続先", "Endpoints";
    RouterSnippets => "ルータ設定例", "Router configuration";
    RouterSnippetsHelp => "機種ごとの詳細は docs/routers/ の手順書を参照してください。",
        "See the guide of your router under docs/routers/ for the details.";
    Vendor => "機種", "Router";
    Enrollment => "登録方法", "Enrollment";
    Config => "設定", "Configuration";
    Pkcs12 => "PKCS#12 の作成 (登録クライアントのない機器)", "PKCS#12 for a device without an enrollment client";
    Pkcs12Help => "鍵をサーバで生成し、証明書・CA チェーンとともに PKCS#12 にまとめます。",
        "The server makes the key and puts it, its certificate and the CA chain in a PKCS#12 file.";
    ExtraName => "追加の名前 (ルータの固定 IP アドレス等、任意)", "Extra name (a router's fixed IP address; optional)";
    VendorOptional => "ルータの機種 (任意)", "Router vendor (optional)";
    Pkcs12Made => "PKCS#12 を作成しました", "PKCS#12 made";
    Passphrase => "パスフレーズ", "Passphrase";
    Download => "PKCS#12 をダウンロード", "Download the PKCS#12";
    PassphraseOnce => "パスフレーズはこの画面でのみ表示され、保存されません。ファイルとは別の経路で設置者に渡してください。\
        ハイフン (-) も含めて、表示どおり半角の英大文字と数字で入力してください。",
        "The passphrase is shown only here and stored nowhere: give it to the installer by another channel than the file. \
        Type it exactly as shown, hyphens included (capital letters and digits).";
    ApplyHelp => "施設の利用を申請します。運用主体が審査し、承認後に機器を登録できます。",
        "Apply for your facility; the operating body reviews it, and after approval you can enroll devices.";
    Applied => "申請を受け付けました", "Application received";
    AppliedHelp => "この施設 ID を控えてください。承認されると運用主体から連絡があります。",
        "Keep this facility ID; the operating body will contact you once it is approved.";
    Filters => "絞り込み", "Filters";
    Action => "操作 (前方一致、カンマ区切り)", "Action (prefix, comma-separated)";
    Actor => "実行者 (部分一致)", "Actor (contains)";
    Target => "対象 (施設 ID・シリアル等)", "Target (facility ID, serial, …)";
    Outcome => "結果", "Outcome";
    ActorCol => "実行者", "Actor";
    ActionCol => "操作", "Action";
    TargetCol => "対象", "Target";
    AnyOutcome => "すべて", "any";
    From => "開始日 (UTC)", "From (UTC date)";
    Until => "終了日 (UTC)", "Until (UTC date)";
    ExportJsonl => "JSON Lines でエクスポート", "Export as JSON lines";
    ExportSyslog => "RFC 5424 syslog でエクスポート", "Export as RFC 5424 syslog";
    At => "日時", "Time";
    Seq => "番号", "Seq";
    Detail => "詳細", "Detail";
    ScanLimited => "新しい順に一部のみ検索しました。期間を絞るか、エクスポートを使ってください。",
        "Only the newest part of the log was searched: narrow the dates, or export.";
    SerialOrFacility => "シリアル番号 または 施設 ID", "Serial or facility ID";
    Facility => "施設", "Facility";
    Welcome => "運用者は運用者証明書、施設管理者は施設の PC 証明書でアクセスします。権限を付与された方は HPKI カードでもサインインできます。",
        "Operators sign in with their operator certificate, facility admins with their facility's PC certificate. People granted console access may also sign in with their HPKI card.";
    Queue => "承認待ちの申請", "Applications waiting for approval";
    SwitchLanguage => "English", "日本語";
    // ---- help desk: users (console/users.rs) and the SSO session lifetime (console/lifetime.rs) ----
    Users => "利用者検索", "Users";
    UsersHelp => "ポータルのパスワードアカウントと、カードでログインした人 (監査ログの新しい順 2 万件から) を検索します。",
        "Searches the portal's password accounts, and people who signed in by card (in the newest 20,000 audit entries).";
    UserQuery => "名前・アカウント名・本人キーに含む文字", "Name, account name or person key contains";
    UserKind => "種類", "Kind";
    Person => "本人キー", "Person key";
    Account => "アカウント名", "Account";
    NotReadyTitle => "二要素認証が未設定のアカウント", "Accounts without a second factor";
    NotReadyHelp => "ワンタイムコードを一度も確認していない有効なアカウントです。本人は施設の PC でコードを空欄にしてログインすると設定できます([portal] second_factor_deadline と猶予期間まで)。期限後や端末紛失時は hcpki portal user reset-second-factor で新しいキーを手渡してください。",
        "Active accounts whose one-time code was never confirmed. Each person sets it up by signing in at a facility PC with the code left empty (until [portal] second_factor_deadline and its grace). After that, or for a lost phone, hand over a new key with hcpki portal user reset-second-factor.";
    CreatedOn => "作成日時", "Created";
    HcRole => "資格 (hcRole)", "Qualification (hcRole)";
    Disabled => "無効化済み", "disabled";
    RecentLogins => "最近のログイン", "Recent sign-ins";
    Method => "方式", "Method";
    LiveSessions => "有効な SSO セッション", "Live SSO sessions";
    Started => "開始", "Started";
    Card => "カード", "card";
    Password => "パスワード", "password";
    Lockout => "パスワード試行制限", "Password throttle";
    Locked => "ロック中 (再試行までの秒数)", "Locked (seconds until it may try again)";
    NotLocked => "ロックされていません", "Not locked";
    Failures => "失敗回数", "Failures";
    EndAllSessions => "すべてのセッションを終了", "End all sessions";
    ClearLockout => "ロックを解除", "Clear the lockout";
    // Ending a person's sessions (issue #45 item 2): the confirmation, then the notice after the redirect.
    EndSessionsTitle => "セッションの終了の確認", "End this person's sessions?";
    EndSessionsConsequence => "この人のすべての SSO セッションを終了します。利用中のサービス(電子カルテなど)からもログアウトされ、作業中の画面は保存されないことがあります。次に使うときは、もう一度ログインが必要です。元には戻せません。",
        "This ends every SSO session of this person. Their services (the EMR and others) are logged out too, and work not yet saved there may be lost. They sign in again to continue. This cannot be undone.";
    EndSessionsConfirm => "セッションを終了する", "End the sessions";
    KeepSessions => "終了せずに戻る", "Back without ending anything";
    NoSuchPerson => "この利用者は見つかりません。利用者検索から選び直してください。",
        "This user was not found: choose them again from the user search.";
    PersonName => "氏名", "Name";
    SessionsEndedNotice => "セッションをすべて終了しました。利用中のサービスにはログアウトを通知しました。この人は次に使うとき、もう一度ログインします。",
        "All sessions ended. Their services were told to log out; the person signs in again next time.";
    LockoutCleared => "試行制限を解除しました。", "The throttle was cleared.";
    NoLockout => "記録された失敗はありませんでした。", "No failures were on record.";
    TooManyUsers => "該当者が多すぎます。検索語を長くしてください。", "Too many matches: search for a longer text.";
    SessionLifetime => "SSO セッションの有効期間", "SSO session lifetime";
    SessionLifetimeHelp => "この施設からのログインで作られる新しいセッションの有効期間 (1〜168 時間)。空欄で解除すると既定値 ([portal] session_hours) に戻ります。",
        "The lifetime of new sessions of logins from this facility (1 to 168 hours). Clear it to return to the default ([portal] session_hours).";
    CurrentLifetime => "現在の設定", "Current setting";
    DefaultLifetime => "既定値 ([portal] session_hours)", "the default ([portal] session_hours)";
    Hours => "時間", "Hours";
    SetLifetime => "設定", "Set";
    ClearLifetime => "解除 (既定値に戻す)", "Clear (back to the default)";
    AddressAllocations => "アドレス割り当て", "Address allocations";
    AddressAllocationsHelp => "この施設に割り当てた IPv6/IPv4 のプレフィックスとアドレス。ルーター証明書にはこの範囲のアドレスだけが入ります。施設どうしの割り当ては重なりません。", "The IPv6/IPv4 prefixes and addresses allocated to this facility. Router certificates carry only addresses inside them; two facilities' allocations never overlap.";
    NoAddresses => "割り当てられたアドレスはありません (ルーター証明書に IP アドレスを入れられません)。", "No addresses are allocated (router certificates cannot carry IP addresses).";
    Prefix => "プレフィックスまたはアドレス", "Prefix or address";
    AddedAt => "追加日時", "Added";
    AddedBy => "追加者", "Added by";
    AddAddress => "割り当てる", "Allocate";
    RemoveAddress => "割り当てを解除", "Take back";
    // ---- long operations: jobs.rs, import.rs, reissue.rs (D38) ----
    Jobs => "一括処理", "Jobs";
    BreakGlass => "緊急時アクセス", "Break-glass";
    OidcClients => "OIDC クライアント", "OIDC clients";
    Job => "一括処理", "Job";
    JobKind => "種類", "Kind";
    Progress => "進捗", "Progress";
    DoneCount => "完了", "Done";
    FailedCount => "失敗", "Failed";
    StartedBy => "開始者", "Started by";
    JobStarted => "開始日時", "Started";
    Refreshing => "処理中です。このページは 2 秒ごとに自動で更新されます。",
        "Working: this page refreshes itself every 2 seconds.";
    Interrupted => "処理していたサーバが停止しました。再開すると、未処理の項目だけを処理します。",
        "The server working on this job stopped. Resuming it works only on the items not yet done.";
    JobStoppedAfter => "指定した件数を処理したところで止めました。「再開」で残りを処理します。",
        "Stopped after the number of items asked for. Resume to work on the rest.";
    JobPausedHalted => "運用者が証明書の発行を止めているため、一時停止しました。発行が再開されたら「再開」を押してください。途中まで発行されたものはありません。",
        "Paused because the operators have halted certificate issuance. Press Resume once issuance resumes; nothing was half-issued.";
    ResumeJob => "再開", "Resume";
    CancelJob => "中止", "Cancel";
    ResultCol => "結果", "Result";
    Error => "エラー", "Error";
    Import => "施設の一括登録 (CSV)", "Facility import (CSV)";
    ImportHelp => "1 行目は見出し行 (name,kind,medical_code,address,contact,allocations。name と kind は必須、allocations はアドレス割り当てを空白区切りで) です。UTF-8、最大 2 MiB。",
        "The first row is the header (name,kind,medical_code,address,contact,allocations; name and kind required; allocations are address prefixes separated by spaces). UTF-8, at most 2 MiB.";
    CsvText => "CSV の内容", "CSV content";
    ApproveEach => "登録した施設をそのまま承認する", "Approve each facility once registered";
    Check => "確認", "Check";
    CheckReport => "行ごとの確認結果", "Row by row check";
    ValidRows => "登録できる行", "Rows that can be registered";
    BadRows => "登録できない行", "Rows that cannot be registered";
    Line => "行", "Line";
    ImportAll => "すべて登録する", "Import all rows";
    ImportValid => "正しい行だけ登録する", "Import only the valid rows";
    ImportNone => "何も登録しない", "Import nothing";
    NothingImported => "何も登録しませんでした。CSV を直して、もう一度確認してください。",
        "Nothing was imported. Correct the CSV and check it again.";
    Reissue => "証明書の一括再発行", "Bulk re-issue";
    ReissueHelp => "同じサブジェクト・名前・プロファイル・公開鍵で、CA の現在の鍵による後継証明書を発行します。機器は後継証明書を施設の機器ページ (PEM / PKCS#7) または ACME の更新で受け取ります。",
        "Makes a successor with the same subject, names, profile and public key under the CA's current key. Devices collect it from their facility's devices page (PEM / PKCS#7) or by an ACME renewal.";
    AnyCa => "すべての CA", "any CA";
    AnyProfile => "すべてのプロファイル", "any profile";
    CaCol => "CA", "CA";
    IssuedBefore => "この日より前に発行 (UTC)", "Issued before (UTC date)";
    ExpiringWithin => "この日数以内に期限切れ", "Expiring within (days)";
    RevokeOld => "後継証明書の発行後、旧証明書を失効する (superseded)", "Revoke each old certificate once its successor exists (superseded)";
    Preview => "対象を確認", "Preview";
    WouldReissue => "再発行の対象", "Would be re-issued";
    StartReissue => "再発行を開始", "Start the re-issue";
    Successor => "後継証明書", "Successor";
    ByCard => "ポータル経由でサインイン", "signed in through the portal";
    PcReadOnly => "閲覧のみ。変更にはポータルでサインインしてください", "read-only; sign in through the portal to make changes";
    AtPc => "PC", "at PC";
    SignInWithCard => "カードでサインイン", "Sign in with card";
    SignOut => "サインアウト", "Sign out";
    SignOutHelp => "コンソールからサインアウトします。ポータルの SSO セッションは続きます (すべてのサービスから出るにはポータルでサインアウトしてください)。",
        "Signs you out of the console. Your portal (SSO) session stays; sign out at the portal to leave every service.";
    SignedOut => "コンソールからサインアウトしました。", "You are signed out of the console.";
    SignedIn => "サインインしました", "Signed in";
    ContinueToConsole => "コンソールへ進む", "Continue to the console";
    NoConsoleAccess => "コンソールを利用できません", "No console access";
    NoGrantHelp => "コンソールの利用権限がありません。運用者に次の個人キーを伝え、権限の付与を依頼してください:",
        "You have no console access. Ask an operator to grant it and give them this person key:";
    CardSignInUnavailable => "カードでのサインインには SSO ポータルの設定 ([portal]) が必要です。",
        "Sign-in by card needs the SSO portal ([portal] in hcpki.toml).";
    SessionEnded => "コンソールのセッションは終了しました。もう一度サインインしてください。",
        "Your console session has ended. Sign in again.";
    // ---- values in words (console/labels.rs, issue #45 item 1) ----
    KindHospital => "病院", "hospital";
    KindClinic => "診療所", "clinic";
    KindDental => "歯科診療所", "dental clinic";
    KindPharmacy => "薬局", "pharmacy";
    KindCare => "介護・訪問看護事業所", "care provider";
    KindServiceProvider => "サービス事業者", "service provider";
    StateApplied => "申請中", "applied";
    StateApproved => "承認済み", "approved";
    StateActive => "利用中", "active";
    StateSuspended => "利用停止中", "suspended";
    StateRetired => "廃止", "retired";
    StateRejected => "却下", "rejected";
    CertReserved => "発行処理中", "being issued";
    CertIssued => "有効", "valid";
    CertFailed => "発行失敗", "issue failed";
    CertRevoked => "失効済み", "revoked";
    CredActive => "未使用", "unused";
    CredUsed => "使用済み", "used";
    CredRevoked => "取り消し済み", "revoked";
    CredExpired => "期限切れ", "expired";
    ProfileRouter => "ルータ", "router";
    ProfilePc => "施設PC", "facility PC";
    ProfileServer => "サーバ", "server";
    ProfileOcsp => "OCSP 署名", "OCSP signer";
    ProfileScepRa => "SCEP 登録局", "SCEP RA";
    ProfileOperator => "運用者", "operator";
    ProfileTsa => "タイムスタンプ局", "time-stamping authority";
    ChooseKind => "種別を選んでください", "Choose the kind";
    // ---- confirmations and what happened (console/facilities.rs, issue #45 item 2) ----
    Cancel => "取り消して戻る", "Cancel and go back";
    CannotUndo => "この操作は取り消せません。", "This cannot be undone.";
    ConfirmRevoke => "証明書の失効の確認", "Confirm the revocation";
    ConfirmRevokeButton => "失効する", "Revoke it";
    RevokeRouter => "このルータは VPN に接続できなくなります(拠点間・医療ネットワークへの接続が切れます)。接続を続けるには、新しい証明書を登録してください。",
        "This router loses its VPN (the connection to the healthcare network ends). To connect again, enroll a new certificate.";
    RevokePc => "この PC からは施設としてサインインできなくなります(この PC でのカードやパスワードによる施設管理者のログインも使えなくなります)。",
        "This PC can no longer sign in for the facility (no facility-admin sign-in from this PC, by card or password).";
    RevokeOther => "この証明書を使う機器は接続できなくなります。", "The device using this certificate can no longer connect.";
    ChooseReasonFirst => "失効理由を選んでください。何も失効していません。", "Choose a revocation reason. Nothing was revoked.";
    ConfirmApprove => "申請の承認の確認", "Confirm the approval";
    ConfirmReject => "申請の却下の確認", "Confirm the rejection";
    ConfirmSuspend => "施設の利用停止の確認", "Confirm the suspension";
    ConfirmResume => "施設の利用再開の確認", "Confirm resuming";
    ConfirmRetire => "施設の廃止の確認", "Confirm retiring the facility";
    ApproveConsequence => "承認すると、施設は機器(ルータ・PC)の証明書を申請できるようになります。所在地・連絡先・医療機関コードを確かめてから承認してください。",
        "Once approved, the facility may enroll its devices (routers, PCs). Check the address, contact and medical institution code first.";
    RejectConsequence => "却下すると申請は終わり、この施設 ID は二度と使えません(申請者は新たに申請し直します)。",
        "Rejecting ends the application; this facility ID is never used again (the applicant applies anew).";
    SuspendConsequence => "利用停止中は、この施設の全証明書が保留 (一時停止) になり、施設の SSO セッションは終了します。利用再開で元に戻せます。",
        "While suspended, every certificate of the facility is on hold and its SSO sessions end. Resuming undoes it.";
    ResumeConsequence => "利用再開すると、保留中の証明書が再び使えるようになります。", "Resuming releases the held certificates.";
    RetireConsequence => "廃止すると、この施設の全証明書を失効し、施設 ID は二度と使えません。",
        "Retiring revokes every certificate of the facility; its ID is never used again.";
    ReasonRequired => "理由を入力してください(施設側に伝わり、監査ログに残ります)。何も変更していません。",
        "Give a reason (the facility is told, and it is kept in the audit log). Nothing was changed.";
    Vetting => "審査の手がかり", "For vetting";
    VettingCode => "医療機関コードの検査数字は正しく、種別と点数表番号は一致しています。", "The medical institution code's check digit is right and it matches the kind.";
    VettingNoCode => "医療機関コードはありません(サービス事業者等)。所在地と連絡先で確かめてください。", "No medical institution code (a service provider, say): check the address and contact.";
    Done => "完了しました", "Done";
    DoneApproved => "申請を承認しました。施設の管理者に連絡し、機器の登録(登録用クレデンシャルの発行)に進んでもらってください。",
        "The application is approved. Tell the facility's admin, who can now enroll devices (issue an enrollment credential).";
    DoneRejected => "申請を却下しました。申請者に理由を連絡してください。", "The application is rejected. Tell the applicant why.";
    DoneSuspended => "施設を利用停止にしました。全証明書は保留中です。再開するにはこのページの「利用再開」を使います。",
        "The facility is suspended; every certificate is on hold. Use Resume on this page to undo it.";
    DoneResumed => "施設の利用を再開しました。保留していた証明書は再び使えます。", "The facility is active again; held certificates work again.";
    DoneRetired => "施設を廃止しました。全証明書を失効しました。", "The facility is retired; every certificate is revoked.";
    DoneCertRevoked => "証明書を失効しました。CRL と OCSP に反映されます。機器を使い続けるには、新しい証明書を登録してください。",
        "The certificate is revoked; CRL and OCSP now say so. To keep using the device, enroll a new certificate.";
    DoneCredRevoked => "登録用クレデンシャルを取り消しました。この秘密情報ではもう登録できません。",
        "The enrollment credential is revoked; its secret can no longer enroll a device.";
    DoneLifetime => "SSO セッションの有効期間を保存しました。次のログインから適用されます。",
        "The SSO session lifetime is saved; it applies from the next sign-in.";
    DoneAddresses => "アドレス割り当てを変更しました。", "The address allocations are changed.";
    DoneIssuanceHalted => "すべての証明書発行を全レプリカで停止しました。原因が解消したら、異なる2人の運用者がこのページで再開を承認します。",
        "All certificate issuance is halted on every replica. Once the cause is resolved, two different operators approve resuming on this page.";
    DoneResumeApproved => "再開の承認を記録しました。発行は止まったままです。別の運用者1人の承認で再開します。",
        "Your approval is recorded; issuance stays halted until one more, different operator approves.";
    DoneIssuanceResumed => "2人目の承認で、証明書の発行を全レプリカで再開しました。", "With the second approval, issuance resumed on every replica.";
    IssuanceHalt => "発行停止スイッチ", "Issuance stop switch";
    Compliance => "ガイドライン適合レポート", "Compliance report";
    Ras => "登録局", "RAs";
    ChangedBy => "変更者", "by";
    // ---- the PKCS#12 form's refusals (issue #45 item 1) ----
    Pkcs12ChooseProfile => "機器の種類(ルータ または 施設PC)を選んでください。", "Choose the kind of device (router or facility PC).";
    Pkcs12UnknownVendor => "ルータの機種は一覧から選んでください(分からなければ「-」)。", "Choose the router vendor from the list (\"-\" if unsure).";
    Pkcs12PcTakesNoName => "施設PCの証明書には追加の名前を付けられません(PC の名前は施設 ID から決まります)。「追加の名前」を空にしてください。",
        "A facility PC's certificate takes no extra name (its names come from the facility ID): leave \"Extra name\" empty.";
    Pkcs12BadName => "追加の名前は IP アドレス(例: 203.0.113.7)か DNS 名の形で入力してください。", "Give the extra name as an IP address (e.g. 203.0.113.7) or a DNS name.";
    Pkcs12NameOutside => "追加の DNS 名は、この施設のルータ DNS 名か、その下の名前にしてください。", "An extra DNS name must be the facility's router DNS name or a name below it.";
    Pkcs12Halted => "運用主体が証明書の発行を一時停止しているため、作成できませんでした。発行が再開されてから、もう一度「作成」を押してください(入力は残してあります)。",
        "Certificate issuance is paused by the operators, so nothing could be made. Once issuance resumes, press Make again (what you typed is kept).";
    Pkcs12AddressNotAllocated => "この IP アドレスはこの施設に割り当てられていません。運用主体にアドレスの割り当てを依頼するか、空欄にしてください。",
        "This IP address is not allocated to the facility: ask the operating body to allocate it, or leave it empty.";
    Pkcs12RouterRefused => "ルータ台帳にないルータには証明書を発行できません。施設管理者がルータを「証明書」の方式と承認済みの機種で台帳に登録し、ここでそのルータを選んでください。",
        "This router certificate is not for a registered router: the facility's administrator registers the router for certificates with an approved model, then chooses it here.";
    NothingMade => "何も作成していません。", "Nothing was made.";
    NothingChanged => "何も変更していません。", "Nothing was changed.";
    // PC devices' display names (issue #45 item 8, D134).
    DeviceId => "端末 ID(証明書の名前)", "Device ID (in its certificates)";
    DeviceName => "端末の名前", "Device name";
    DeviceNameHint => "職員が呼んでいる名前(例: 受付PC、診察室1)。1〜32 文字。コンソールの一覧と確認画面に表示され、証明書には入りません。",
        "What staff call it (e.g. 受付PC, 診察室1). 1 to 32 characters. Shown in the console's lists and confirmations; never put into a certificate.";
    NameDevice => "端末に名前を付ける", "Name the device";
    Rename => "名前を付ける・変更", "Name or rename";
    NameThisDevice => "この PC に名前を付ける(例: 受付PC)", "Name this PC (e.g. 受付PC)";
    SaveDeviceName => "名前を保存する", "Save the name";
    DeviceNameEmpty => "端末の名前を入力してください(例: 受付PC)。", "Type a name for the device (e.g. 受付PC).";
    DeviceNameTooLong => "端末の名前は 32 文字以内にしてください。", "Use at most 32 characters for the device name.";
    DeviceNameControl => "端末の名前に改行やタブは使えません。1 行で入力してください。", "A device name cannot hold line breaks or tabs: type it on one line.";
    DoneDeviceNamed => "端末の名前を保存しました。一覧と失効の確認画面にこの名前が表示されます。", "The device's name is saved; the lists and the revocation confirmation show it.";
    HoursEmpty => "時間数を入力してください(1〜168)。既定値に戻すには「解除」を押してください。",
        "Give the hours (1 to 168); to go back to the default, press Clear.";
    HoursRange => "時間数は 1〜168 の整数で入力してください(例: 10)。", "Give the hours as a whole number from 1 to 168 (e.g. 10).";
    // ---- the application form: hints and refusals (console/apply.rs, issue #45 items 1 and 4) ----
    NothingRegistered => "何も登録していません。", "Nothing was registered.";
    ApplyNameHint => "医療機関の正式名称(例: 桜クリニック)。200 文字まで。", "The facility's official name (e.g. 桜クリニック), up to 200 characters.";
    ApplyKindHint => "病院・診療所・歯科診療所・薬局など。医療機関コードの点数表番号(3 桁目)と合うものを選んでください。",
        "Hospital, clinic, dental clinic, pharmacy… Choose the one that fits the score-table digit (the 3rd) of the code.";
    ApplyCodeHint => "10 桁(都道府県 2 桁・点数表番号 1 桁・番号 7 桁、最後の 1 桁は検査数字)。ハイフンや全角数字のままでも構いません。任意。",
        "10 digits (prefecture 2, score table 1, number 7, the last a check digit). Hyphens and full-width digits are fine. Optional.";
    ApplyAddressHint => "施設の所在地(都道府県から)。300 文字まで。任意。", "The facility's address, from the prefecture, up to 300 characters. Optional.";
    ApplyContactHint => "審査の連絡先(担当者名と電話番号またはメール)。200 文字まで。任意。",
        "Whom the operating body contacts about the application (name and phone or mail), up to 200 characters. Optional.";
    ApplyProblemName => "名称を 1〜200 文字で入力してください(改行などの制御文字は使えません)。",
        "Give the name in 1 to 200 characters (no line breaks or other control characters).";
    ApplyProblemKind => "種別を一覧から選んでください。", "Choose the kind from the list.";
    ApplyProblemCode => "医療機関コードを確かめてください。10 桁の数字で、都道府県番号は 01〜47、3 桁目の点数表番号は 1(医科)・3(歯科)・4(調剤)・6(訪問看護)のいずれかです。最後の検査数字が合わないときは打ち間違いの可能性があります。",
        "Check the medical institution code: 10 digits, the prefecture 01 to 47, the 3rd digit (score table) 1, 3, 4 or 6. If the last (check) digit does not match, a digit was probably mistyped.";
    ApplyProblemCodeKind => "医療機関コードの点数表番号(3 桁目)が種別と合いません。コードか種別を確かめてください(例: 薬局は 4、歯科診療所は 3)。",
        "The code's score-table digit (the 3rd) does not fit the kind: check the code or the kind (e.g. 4 for a pharmacy, 3 for a dental clinic).";
    ApplyProblemCodeTaken => "この医療機関コードはすでに登録されています。コードを確かめてください。貴施設のコードであれば、申請し直さずに運用主体にご連絡ください。",
        "This medical institution code is already registered. Check the code; if it is your facility's, contact the operating body instead of applying again.";
    ApplyProblemAddress => "所在地は 300 文字以内で、改行などの制御文字を含めずに入力してください。",
        "Give the address in at most 300 characters, without line breaks or other control characters.";
    ApplyProblemContact => "連絡先は 200 文字以内で、改行などの制御文字を含めずに入力してください。",
        "Give the contact in at most 200 characters, without line breaks or other control characters.";
    // ---- the bulk re-issue's refusals (console/reissue.rs) ----
    NothingStarted => "何も開始していません。", "Nothing was started.";
    ReissueBadDate => "「この日より前に発行」は日付で入力してください(例: 2026-04-01)。", "Give \"issued before\" as a date (e.g. 2026-04-01).";
    ReissueBadDays => "「この日数以内に期限切れ」は 1〜36500 の整数で入力してください(例: 30)。", "Give \"expiring within\" as a whole number of days from 1 to 36500 (e.g. 30).";
    ReissueBadCa => "CA は一覧から選んでください。", "Choose the CA from the list.";
    ReissueBadProfile => "プロファイルは一覧から選んでください。", "Choose the profile from the list.";
    ReissueBadFacility => "施設 ID の形が正しくありません(HF で始まり、最後の 1 文字は検査文字です)。施設検索で ID を確かめてください。",
        "That is not a facility ID (HF, digits and a check character): look the ID up in the facility search.";
    ReissueUnbounded => "再発行する証明書を、CA・プロファイル・施設・発行日・期限のどれか 1 つ以上で絞り込んでください。",
        "Narrow the certificates by at least one of CA, profile, facility, issue date or expiry.";
    ReissueNothingLeft => "条件に合う証明書がもうありません(確認の後に再発行・失効されたもの)。条件を確かめて、もう一度確認してください。",
        "No certificate matches any more (re-issued or revoked since the preview): check the choice and preview again.";
    // ---- the facility import's refusals (console/import.rs) ----
    CsvUnreadable => "CSV を読み取れませんでした。1 行目を見出し行(name,kind,medical_code,address,contact)にし、カンマ区切りで貼り付けてください。",
        "The CSV could not be read: make the first line the header (name,kind,medical_code,address,contact), comma-separated.";
    CsvSplit => "CSV はファイルを分けて、一つずつ貼り付けてください。一度に登録したい大きなファイルは、運用者がサーバーで一括登録できます。",
        "Split the CSV and paste the parts one at a time. A large file to register at once can be imported by an operator on the server.";
    KeySetTooLarge => "大きな鍵セットは、サービスの jwks_uri で公開して登録するか、運用者に管理 API での登録を依頼してください。",
        "Publish a large key set at the service's jwks_uri and register that, or ask an operator to register it through the admin API.";
    CsvTooLarge => "CSV が大きすぎます(2 MiB まで)。大きすぎて画面に戻せないため、ファイルを分けて一つずつ貼り付け直してください。一度に登録したい大きなファイルは、運用者がサーバーで一括登録できます。",
        "The CSV is too large (2 MiB at most), too large to be shown again: split the file and paste the parts one at a time. A large file to register at once can be imported by an operator on the server.";
    ImportChooseAgain => "誤りのある行があるため、すべては登録できません。もう一度確認してから「正しい行だけ登録する」か「何も登録しない」を選んでください。",
        "Some rows are bad: check the CSV again, then choose \"import only the valid rows\" or \"import nothing\".";
    // ---- the user search's refusal (console/users.rs) ----
    UserQueryRule => "検索語は 100 文字以内で、名前・アカウント名・本人キーの一部を入力してください(改行などの制御文字は使えません)。",
        "Search with part of a name, an account name or a person key, at most 100 characters, without line breaks or other control characters.";
    // ---- a suspended or retired facility's admin (console/held.rs) ----
    HeldSuspendedTitle => "この施設は利用停止中です", "This facility is suspended";
    HeldSuspended => "運用主体がこの施設の利用を停止しました。停止中は、この PC の証明書も施設の機器の証明書も使えません(保留中)。",
        "The operating body has suspended this facility. While it is suspended, this PC's certificate and the facility's devices' certificates are on hold.";
    HeldSuspendedNext => "下の理由を確かめ、運用主体(申請を審査した窓口)に施設 ID を伝えてご連絡ください。利用が再開されると、この PC の証明書はそのまま使えるようになります。",
        "Read the reason below and contact the operating body (the desk that reviewed the application), giving the facility ID. Once the facility is resumed, this PC's certificate works again as it is.";
    HeldRetiredTitle => "この施設は廃止されています", "This facility is retired";
    HeldRetired => "運用主体がこの施設を廃止しました。この PC の証明書も施設の機器の証明書も失効しています。",
        "The operating body has retired this facility. This PC's certificate and the facility's devices' certificates are revoked.";
    HeldRetiredNext => "誤りと思われる場合や、施設として再び利用する場合は、施設 ID を伝えて運用主体にご相談ください。",
        "If this is a mistake, or to use the network again as a facility, contact the operating body, giving the facility ID.";
    // ---- address allocations: refusals (console/addresses.rs) ----
    PrefixHint => "IPv4 か IPv6 のアドレス、またはプレフィックス(例: 203.0.113.7、2001:db8:10::/48)。",
        "An IPv4 or IPv6 address or prefix (e.g. 203.0.113.7, 2001:db8:10::/48).";
    AddressBadPrefix => "アドレスかプレフィックスの形で入力してください(例: 203.0.113.0/24)。プレフィックス長より後ろのビットは 0 にし、ループバック・リンクローカル・マルチキャストなど機器を特定しない範囲は使えません。",
        "Give an address or a prefix (e.g. 203.0.113.0/24), with the bits after the prefix length zero; loopback, link-local, multicast and other ranges that name no single device cannot be allocated.";
    AddressHeld => "このアドレスは別の割り当てと重なっています。先にそちらを外すか、重ならない範囲にしてください。",
        "This overlaps an allocation already made: take that one back first, or choose a range that does not overlap.";
    OverlapsWith => "重なっている割り当て:", "It overlaps:";
    AddressNotHeld => "この施設にはこの割り当てがありません。一覧の「割り当てを解除」ボタンから外してください。",
        "The facility holds no such allocation: remove allocations with the buttons of the list.";
    // ---- enrollment credentials: refusals and the revocation's confirmation (console/facilities.rs) ----
    CredProblemProtocol => "登録方法(プロトコル)を一覧から選んでください(EST・SCEP・ACME)。", "Choose the protocol from the list (EST, SCEP or ACME).";
    CredProblemProfile => "機器の種類(ルータ または 施設PC)を一覧から選んでください。", "Choose the kind of device (router or facility PC) from the list.";
    CredProblemValidity => "有効期間は数字と単位で入力してください(d=日・h=時間・m=分、例: 7d、12h)。1 分から 90 日までです。",
        "Give the validity as a number and a unit (d days, h hours, m minutes; e.g. 7d, 12h), from 1 minute to 90 days.";
    ConfirmCredRevoke => "登録用クレデンシャルの取り消しの確認", "Confirm revoking the enrollment credential";
    CredRevokeConsequence => "この ID と秘密情報では、もう機器を登録できなくなります。すでに発行済みの証明書はそのまま使えます。機器を登録し直すには、新しいクレデンシャルを発行してください。",
        "This ID and secret can no longer enroll a device. Certificates already issued with it stay valid. To enroll a device again, create a new credential.";
    ConfirmCredRevokeButton => "取り消す", "Revoke it";
    // The router register and routers' pre-shared keys (D168).
    RouterRegister => "ルータ台帳と事前共有鍵", "Routers and pre-shared keys";
    RouterRegisterLink => "ルータ台帳と事前共有鍵 (PSK) の管理", "Manage the routers and their pre-shared keys (PSK)";
    RouterRegisterHelp => "施設のルータ(機種・ファームウェア・認証方式・アドレス)を登録します。アドレスは施設に割り当てられた範囲内に限ります。",
        "Register the facility's routers (model, firmware, authentication, addresses). Addresses must be inside the facility's allocations.";
    Routers => "ルータ", "Routers";
    NoRouters => "登録されたルータはありません。", "No routers are registered.";
    RouterName => "ルータ名", "Router name";
    RouterModel => "機種", "Model";
    Firmware => "ファームウェア", "Firmware";
    AuthMethod => "認証方式", "Authentication";
    RouterAddresses => "アドレス(空白区切り)", "Addresses (separated by spaces)";
    AddRouter => "ルータを登録", "Register the router";
    RemoveRouter => "台帳から削除", "Remove from the register";
    ApprovedModels => "承認済み機種", "Approved models";
    Tested => "検証状況", "Tested";
    ApprovedOnlyOn => "承認済み機種以外には証明書・事前共有鍵を発行しません。", "Certificates and pre-shared keys are issued only for approved models.";
    ApprovedOnlyOff => "承認済み機種以外にも発行できます(運用主体の設定)。", "Models off the list may also get certificates and keys (the operating body's setting).";
    PreSharedKeys => "事前共有鍵 (PSK)", "Pre-shared keys (PSK)";
    PskHelp => "鍵は hcpki が生成し、発行時に一度だけ表示します。同じハブへ再発行すると、以前の鍵は重複期間の後に使えなくなります。",
        "hcpki makes each key and shows it once, when issued. Issuing again for the same hub rotates the old key out after the overlap.";
    NoPsks => "事前共有鍵はありません。", "No pre-shared keys.";
    KeyId => "鍵 ID", "Key ID";
    Hub => "ハブ", "Hub";
    RemoteId => "ルータの IKE ID", "Router's IKE ID";
    KeyState => "状態", "State";
    PskCurrent => "使用中", "current";
    PskOverlap => "重複期間中(期限あり)", "in its overlap";
    PskRetired => "使用終了", "rotated out";
    PskWithdrawn => "取り消し済み", "withdrawn";
    IssuePsk => "事前共有鍵を発行", "Issue a pre-shared key";
    WithdrawPsk => "取り消す", "Withdraw";
    OverlapHours => "以前の鍵の重複期間(時間)", "Overlap of the previous key (hours)";
    HubId => "ハブの IKE ID", "Hub's IKE ID";
    HubAddress => "ハブのアドレス", "Hub's address";
    NoRouterChosen => "(ルータを指定しない)", "(no router)";
    PskIssued => "事前共有鍵を発行しました", "Pre-shared key issued";
    PskShownOnce => "この鍵はこの画面で一度だけ表示されます。今すぐルータに設定するか、安全な経路で管理者に渡してください。再表示はできません(必要なら再発行してください)。",
        "This key is shown on this page once. Configure the router now or hand it over through a secure channel; it cannot be shown again (issue a new one if needed).";
    RouterRefused => "受け付けられませんでした。", "Refused.";
    // A facility's own rules (D178): security officer, passkeys, signing sessions.
    FacilityRules => "施設の規則(セキュリティ責任者・パスキー・署名セッション)", "The facility's rules (security officer, passkeys, signing sessions)";
    FacilityRulesLink => "セキュリティ責任者、パスキーの規則、署名セッションの上限を見る・設定する", "See or set the security officer, the passkey rule and the signing-session limit";
    RuleSetBy => "設定:", "Set by";
    SecurityOfficer => "セキュリティ責任者", "Security officer";
    SecurityOfficerHelp => "インシデントの際に連絡する、施設の医療情報システム安全管理責任者です。",
        "The facility's officer for medical information systems, whom incident response calls.";
    NoneNamed => "まだ登録されていません。", "None named yet.";
    OfficerName => "氏名", "Name";
    OfficerContact => "連絡先(電話・メール)", "Contact (phone, e-mail)";
    NameOfficer => "責任者を登録", "Name the officer";
    PasskeyRule => "パスキーの規則", "Passkey rule";
    PasskeyRuleHelp => "この施設の PC で使えるパスキーを決めます。機種を指定すると、その AAGUID の認証器(ハードウェアキー)だけを受け付け、既に登録された他のパスキーもログインで拒否します。",
        "Which passkeys the facility's PCs accept. With listed models, only authenticators of those AAGUIDs (hardware keys) are accepted; other passkeys already registered are refused at sign-in too.";
    PasskeyRuleNone => "制限なし(同期パスキーも可)", "Any passkey (synced ones too)";
    PasskeyRuleAny => "証明付きの認証器のみ", "Attested authenticators only";
    PasskeyRuleModels => "指定した機種のみ", "Listed models only";
    PasskeyModels => "機種の AAGUID(空白区切り、「指定した機種のみ」のとき)", "Models' AAGUIDs (separated by spaces; for listed models only)";
    SetRule => "設定する", "Set";
    SigningLimit => "署名セッションの上限", "Signing-session limit";
    SigningLimitHelp => "署名用 PIN 1回のあと、この施設の PC で続けて署名できる件数と時間の上限です(カードエージェントの上限 250 件・18 時間より低くだけできます。0 で署名ごとに PIN)。",
        "How many signatures, within how many hours, may follow one signature PIN at the facility's PCs (only lower than the card agent's 250 and 18 hours; 0 asks for the PIN at every signature).";
    SigningLimitAgent => "施設の設定なし: カードエージェントの上限(250 件・18 時間)", "Not set: the card agent's limits (250 signatures, 18 hours)";
    SigningLimitOff => "署名セッションなし: 署名ごとに PIN", "Off: the PIN at every signature";
    MaxSignatures => "最大署名件数(0〜250)", "Most signatures (0 to 250)";
    MaxHours => "最長時間(0〜24 時間)", "Longest time (0 to 24 hours)";
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use axum::http::header::{ACCEPT_LANGUAGE, COOKIE as COOKIE_HEADER};

    #[test]
    fn japanese_unless_english_is_asked_for() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate(None, &h), Lang::Ja);
        h.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("en-US,en;q=0.9,ja;q=0.8"));
        assert_eq!(negotiate(None, &h), Lang::En);
        h.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("en;q=0.5, ja"));
        assert_eq!(negotiate(None, &h), Lang::Ja);
        h.insert(COOKIE_HEADER, HeaderValue::from_static("a=b; hcpki_console_lang=en"));
        assert_eq!(negotiate(None, &h), Lang::En);
        assert_eq!(negotiate(Some("x=1&lang=ja"), &h), Lang::Ja);
        assert_eq!(M::Console.text(Lang::En), "hcpki console");
    }
}
