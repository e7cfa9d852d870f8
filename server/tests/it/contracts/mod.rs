//! One contract suite per port, run against every adapter and fake: what the port's doc says
//! an implementation MUST do (`app/src/ssr/ports.rs`).

mod audit_store;
mod codes;
mod directory;
mod likeness;
mod mailer;
mod record_index;
mod seats;

/// Of racing writers `(bytes, won)`, the bytes of the one that won; fails unless exactly one did.
fn the_one_winner(answers: &[(u8, bool)]) -> Vec<u8> {
    let winners: Vec<u8> = answers
        .iter()
        .filter(|(_, won)| *won)
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    winners
}
