//! PIN entry into the agent itself: its terminal (no echo), or one line of its standard input for
//! scripted use. The browser-facing entry is the agent's own loopback page (`api::pin_page`). The
//! portal's page never sees a PIN.

use std::io::BufRead as _;
use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::driver::registry;
use crate::service::{AgentError, CardKind, KeyRole, Pin, PinPrompt, PinQuestion};

/// What the user is told before typing: which card and key, and how many tries are left, with a
/// warning before the last one.
pub fn prompt_text(kind: CardKind, role: KeyRole, tries_left: Option<u8>) -> String {
    with_tries(registry::pin_labels(kind, role).terminal, tries_left)
}

/// The prompt for the My Number card's 券面事項入力補助 PIN (the basic four items).
pub fn text_pin_prompt(tries_left: Option<u8>) -> String {
    with_tries("My Number card: 券面事項入力補助用 PIN for name, address, birth date, sex (4 digits)", tries_left)
}

fn with_tries(what: &str, tries_left: Option<u8>) -> String {
    match tries_left {
        Some(1) => format!("{what}\nLAST TRY: a wrong PIN now blocks this card until its issuer unblocks it.\nPIN: "),
        Some(2) => format!("{what}\n2 tries left: a wrong PIN now leaves only the last try.\nPIN: "),
        Some(n) => format!("{what} ({n} tries left)\nPIN: "),
        None => format!("{what}\nPIN: "),
    }
}

/// Reads one PIN after showing `prompt`: from the terminal without echo, or one line of stdin.
pub fn read_pin(from_stdin: bool, prompt: &str) -> Result<Pin, AgentError> {
    if from_stdin {
        eprint!("{prompt}");
        let mut line = Zeroizing::new(String::new());
        let n = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| AgentError::Other(format!("cannot read the PIN from standard input: {e}")))?;
        if n == 0 {
            return Err(AgentError::Cancelled);
        }
        non_empty(Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned()))
    } else {
        let pin = rpassword::prompt_password(prompt)
            .map_err(|e| AgentError::Other(format!("cannot read the PIN from the terminal ({e}): use --pin-stdin")))?;
        non_empty(Zeroizing::new(pin))
    }
}

/// The controlling terminal, without echo.
#[derive(Debug, Default)]
pub struct TerminalPrompt;

impl PinPrompt for TerminalPrompt {
    fn ask(&self, q: &PinQuestion) -> Result<Pin, AgentError> {
        read_pin(false, &prompt_text(q.kind, q.role, q.tries_left))
    }
}

/// One line of standard input per PIN asked (for scripts and tests; the prompt goes to stderr).
#[derive(Debug, Default)]
pub struct StdinPrompt {
    lock: Mutex<()>,
}

impl PinPrompt for StdinPrompt {
    fn ask(&self, q: &PinQuestion) -> Result<Pin, AgentError> {
        let _one_at_a_time = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        read_pin(true, &prompt_text(q.kind, q.role, q.tries_left))
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
        assert!(text_pin_prompt(Some(1)).contains("LAST TRY") && text_pin_prompt(None).contains("券面事項入力補助"));
    }
}
