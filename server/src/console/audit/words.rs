//! The audit viewer's own words (issue #45 item 3), kept apart from the console's table: the roles of actors,
//! the kinds of events and the outcomes, in Japanese (the default) and English.

use hcpki_html::messages;

messages! {
    // Actors' roles.
    RoleOperator => "運用者", "Operator";
    RoleStaff => "運用者(カード)", "Operator (card)";
    RoleRaOperator => "登録局の運用者", "Registration authority operator";
    RoleRaStaff => "登録局の運用者(カード)", "Registration authority operator (card)";
    RoleFacilityAdmin => "施設管理者", "Facility admin";
    RoleFacilityPc => "施設PC", "Facility PC";
    RolePortalUser => "ポータル利用者", "Portal user";
    RoleAnonymous => "未ログイン", "Not signed in";
    RoleCli => "コマンドライン", "Command line";
    RoleDevice => "機器", "Device";
    RoleSystem => "システム", "System";
    RoleOther => "その他", "Other";
    ByPassword => "パスワード", "password";
    ByHpki => "HPKIカード", "HPKI card";
    ByJpki => "マイナンバーカード", "My Number Card";
    AtPc => "施設PC", "facility PC";
    // Outcomes.
    OutcomeOk => "成功", "succeeded";
    OutcomeDenied => "拒否", "refused";
    OutcomeFailed => "失敗", "failed";
    // Kinds of events, by the action's first word.
    KindLogin => "ログイン", "Sign-in";
    KindPortal => "ポータル", "Portal";
    KindOidc => "OpenID Connect", "OpenID Connect";
    KindCert => "証明書", "Certificate";
    KindCrl => "失効リスト", "Revocation list";
    KindConsole => "管理コンソール", "Console";
    KindAdmin => "管理操作", "Administration";
    KindConsent => "同意", "Consent";
    KindFacility => "施設", "Facility";
    KindSession => "セッション", "Session";
    KindDelegation => "代行", "Delegation";
    KindBreakGlass => "緊急アクセス", "Emergency access";
    KindJob => "一括処理", "Job";
    KindEnroll => "機器の証明書申請", "Device enrollment";
    KindOther => "その他", "Other";
    // Well-known events.
    PortalLogin => "ポータルへのログイン", "Portal sign-in";
    PortalLogout => "ポータルからのログアウト", "Portal sign-out";
    PortalSessionsEnd => "セッションの終了", "Sessions ended";
    LoginCard => "カードでのログイン", "Card sign-in";
    ConsoleSignIn => "コンソールへのログイン", "Console sign-in";
    ConsoleSignOut => "コンソールからのログアウト", "Console sign-out";
    ConsoleSession => "コンソールのセッション確認", "Console session check";
    ConsoleCsrf => "フォームの送信元確認", "Form origin check";
    AuditExport => "監査ログの書き出し", "Audit log export";
    AuditRead => "監査ログの閲覧", "Audit log read";
    CertIssue => "証明書の発行", "Certificate issued";
    CertRevoke => "証明書の失効", "Certificate revoked";
    FacilityApply => "施設の利用申請", "Facility application";
    FacilityApprove => "施設の承認", "Facility approved";
    FacilityReject => "申請の却下", "Application rejected";
    FacilitySuspend => "施設の一時停止", "Facility suspended";
    FacilityResume => "施設の再開", "Facility resumed";
    FacilityRetire => "施設の廃止", "Facility retired";
    UserEndSessions => "利用者のセッション終了", "User's sessions ended";
    UserClearLockout => "ロックの解除", "Lockout cleared";
    UserSearch => "利用者の検索", "User search";
    CredentialCreate => "登録用認証情報の作成", "Enrollment credential created";
    CredentialRevoke => "登録用認証情報の取り消し", "Enrollment credential revoked";
    DeviceIssue => "機器の鍵と証明書の作成", "Device key and certificate made";
    DeviceName => "端末の名前の変更", "Device named";
    OidcToken => "トークンの発行", "Token issued";
    OidcAuthorize => "サービスへのログイン要求", "Service sign-in request";
    // The pages.
    AtJapan => "日時(日本時間)", "Time (Japan time)";
    TimesInJapan => "時刻は日本時間です(書き出しは UTC のままです)。番号を選ぶと、その記録のすべての値を表示します。",
        "Times are Japan time (exports stay in UTC). Choose an entry's number to see all its values.";
    Pages => "ページ", "Pages";
    Newest => "最新の記録へ", "Newest entries";
    Older => "これより前の記録", "Older entries";
    EntryTitle => "監査記録", "Audit entry";
    NoSuchEntry => "この番号の監査記録はありません。監査ログの一覧から選んでください。",
        "There is no audit entry with this number: choose one from the audit log.";
    BackToLog => "監査ログへ戻る", "Back to the audit log";
    StoredActor => "記録された実行者", "Actor as stored";
    Role => "役割", "Role";
    Event => "操作", "Event";
    EventCode => "操作の名前", "Event name";
    UtcTime => "日時(UTC)", "Time (UTC)";
    Target => "対象", "Target";
    Outcome => "結果", "Outcome";
    Details => "詳細", "Details";
    RawDetail => "記録された詳細(JSON)", "Detail as stored (JSON)";
    Chain => "改ざん検知の連鎖", "Tamper-evidence chain";
    PrevHash => "前の記録のハッシュ", "Previous entry's hash";
    Hash => "この記録のハッシュ", "This entry's hash";
    Number => "番号", "Number";
    Time => "日時", "Time";
    Actor => "実行者", "Actor";
}
