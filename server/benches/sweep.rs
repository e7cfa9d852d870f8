//! The sweep at scale (run: `bash scripts/bench.sh`, or `cargo bench -p server --bench sweep`;
//! `KIRO_SWEEP_SEATS=1000` for fewer): 10,000 members whose seats have ended, then 10,000 whose
//! reminder is due, on the embedded default (SQLite directory and index, mail to the outbox).
//! The sweep runs as the hourly event runs it on Lambda, each run within `SWEEP_BUDGET` (20 s)
//! of the function's 29 s, until nothing is left: how many runs, and how long each took.

use app::ssr::notify::{Notices, Notifier};
use app::ssr::ports::{NewUser, RecordIndex, Seat};
use app::ssr::seats::{stamp, SWEEP_BUDGET};
use server::adapters::memory::ScriptedAnalyzer;
use server::adapters::{FileAuditStore, OutboxMailer, SqliteDirectory, SqliteIndex};
use server::config::Config;
use server::startup::services_over;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let seats: usize = std::env::var("KIRO_SWEEP_SEATS")
        .map_or(10_000, |n| n.trim().parse().expect("a number of seats"));
    let dir = tempfile::tempdir().unwrap();
    let config = Config::local(dir.path().to_owned(), "m", "a");
    let directory = Arc::new(SqliteDirectory::open(&dir.path().join("directory.sqlite")).unwrap());
    let index = Arc::new(SqliteIndex::open(&dir.path().join("records.sqlite")).unwrap());
    let outbox = OutboxMailer::open(
        &dir.path().join("outbox"),
        "kiro@example.com".parse().unwrap(),
    )
    .unwrap();
    let services = services_over(
        &config,
        directory.clone(),
        Arc::new(FileAuditStore::open(dir.path()).unwrap()),
        index.clone(),
        Arc::new(ScriptedAnalyzer::new(Default::default())),
    )
    .with_notifier(Notifier::new(Arc::new(outbox), Notices::default()));

    let now = chrono::Utc::now();
    let ended = seed(
        &directory,
        &index,
        &config.group_name,
        seats,
        "ended",
        |_| Seat {
            email: String::new(),
            since: stamp(now - chrono::Duration::days(60)),
            ends: Some(stamp(now - chrono::Duration::hours(1))),
            remind_at: Some(stamp(now - chrono::Duration::days(7))),
            reminded: true,
            how: "granted automatically".into(),
        },
    )
    .await;
    let due = seed(&directory, &index, &config.group_name, seats, "due", |_| {
        Seat {
            email: String::new(),
            since: stamp(now - chrono::Duration::days(25)),
            ends: Some(stamp(now + chrono::Duration::days(5))),
            remind_at: Some(stamp(now - chrono::Duration::hours(1))),
            reminded: false,
            how: "granted automatically".into(),
        }
    })
    .await;
    println!(
        "sweep, SQLite + outbox: seeded {seats} ended and {seats} due seats in {:.0} s",
        ended + due
    );

    let (mut reclaimed, mut reminded, mut runs) = (0, 0, Vec::new());
    while reclaimed < seats || reminded < seats {
        let started = Instant::now();
        let report = services.sweep().await.expect("the sweep runs");
        let took = started.elapsed();
        assert_eq!(report.failed, 0, "{report:?}");
        assert!(
            report.reclaimed + report.reminded > 0,
            "a run that did nothing: {report:?}"
        );
        reclaimed += report.reclaimed;
        reminded += report.reminded;
        runs.push(format!(
            "{:.1} s ({} back, {} reminded{})",
            took.as_secs_f64(),
            report.reclaimed,
            report.reminded,
            if report.more { ", more left" } else { "" }
        ));
        assert!(
            took <= SWEEP_BUDGET + std::time::Duration::from_secs(5),
            "a run over Lambda's 29 s"
        );
    }
    println!(
        "sweep, {seats} ended + {seats} due seats: {} runs of the sweep (budget {} s each; \
         Lambda's timeout 29 s): {}",
        runs.len(),
        SWEEP_BUDGET.as_secs(),
        runs.join("; ")
    );
}

/// `count` members of the group, each with the seat `seat` gives; the seconds it took.
async fn seed(
    directory: &SqliteDirectory,
    index: &SqliteIndex,
    group_name: &str,
    count: usize,
    prefix: &str,
    seat: impl Fn(usize) -> Seat,
) -> f64 {
    use app::ssr::ports::Directory;
    let started = Instant::now();
    let group = match directory.find_group(group_name).await.unwrap() {
        Some(id) => id,
        None => directory.create_group(group_name).await.unwrap(),
    };
    for i in 0..count {
        let email = format!("{prefix}{i}@example.com");
        let user = directory
            .create_user(&NewUser {
                user_name: email.clone(),
                given_name: "Member".into(),
                family_name: "-".into(),
                display_name: format!("Member {i}"),
                email: email.clone(),
            })
            .await
            .unwrap();
        directory.add_member(&group, &user).await.unwrap();
        index.put_seat(&Seat { email, ..seat(i) }).await.unwrap();
    }
    started.elapsed().as_secs_f64()
}
