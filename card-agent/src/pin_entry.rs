//! PIN entry into the agent itself: its terminal (no echo), or one line of its standard input for
//! scripted use. The browser-facing entry is the agent's own loopback page (`api::pin_page`). The
//! portal's page never sees a PIN.

use std::io::BufRead as _;
use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::service::{AgentError, CardKind, KeyRole, Pin, PinPrompt};

/// What the user is told before typing: which card and key, and how many tries are left, with a
/// warning before the last one.
pub fn prompt_text(kind: CardKind, role: KeyRole, tries_left: Option<u8>) -> String {
    let what = match (kind, role) {
        (CardKind::Jpki, KeyRole::Auth) => "My Number card: user-authentication PIN (4 digits)",
        (CardKind::Jpki, KeyRole::Sign) => "My Number card: signing password (6-16 letters/digits)",
        (CardKind::Hpki, KeyRole::Auth) => "HPKI card: authentication PIN",
        (CardKind::Hpki, KeyRole::Sign) => "HPKI card: signature PIN",
    };
    match tries_left {
        Some(1) => format!("{what}\nLAST TRY: a wrong PIN now blocks this card until its issuer unblocks it.\nPIN: "),
        Some(2) => format!("{what}\n2 tries left: a wrong PIN now leaves only the last try.\nPIN: "),
        Some(n) => format!("{what} ({n} tries left)\nPIN: "),
        None => format!("{what}\nPIN: "),
    }
}

/// The controlling terminal, without echo.
#[derive(Debug, Default)]
pub struct TerminalPrompt;

impl PinPrompt for TerminalPrompt {
    fn ask(&self, kind: CardKind, role: KeyRole, tries_left: Option<u8>) -> Result<Pin, AgentError> {
        let text = prompt_text(kind, role, tries_left);
        let pin = rpassword::prompt_password(text)
            .map_err(|e| AgentError::Other(format!("cannot read the PIN from the terminal ({e}): use --pin-stdin")))?;
        non_empty(Zeroizing::new(pin))
    }
}

/// One line of standard input per PIN asked (for scripts and tests; the prompt goes to stderr).
#[derive(Debug, Default)]
pub struct StdinPrompt {
    lock: Mutex<()>,
}

impl PinPrompt for StdinPrompt {
    fn ask(&self, kind: CardKind, role: KeyRole, tries_left: Option<u8>) -> Result<Pin, AgentError> {
        let _one_at_a_time = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        eprint!("{}", prompt_text(kind, role, tries_left));
        let mut line = Zeroizing::new(String::new());
        let n = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| AgentError::Other(format!("cannot read the PIN from standard input: {e}")))?;
        if n == 0 {
            return Err(AgentError::Cancelled);
        }
        let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
        non_empty(trimmed)
    }
}

fn non_empty(pin: Zeroizing<String>) -> Result<Pin, AgentError> {
    if pin.is_empty() { Err(AgentError::Cancelled) } else { Ok(Pin(pin)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_before_the_last_try() {
        assert!(prompt_text(CardKind::Hpki, KeyRole::Auth, Some(1)).contains("LAST TRY"));
        assert!(prompt_text(CardKind::Jpki, KeyRole::Auth, Some(2)).contains("only the last try"));
        let three = prompt_text(CardKind::Jpki, KeyRole::Auth, Some(3));
        assert!(three.contains("3 tries left") && !three.contains("LAST"));
        assert!(prompt_text(CardKind::Jpki, KeyRole::Sign, None).contains("signing password"));
    }
}
