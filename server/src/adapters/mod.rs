//! Adapters for the ports: the embedded defaults (SQLite, files, PP-OCR or Tesseract, an outbox or SMTP), AWS, and the
//! in-memory fakes the tests use.

pub mod aws;
pub mod blob_index;
pub mod blob_likeness;
pub mod blob_seats;
pub mod file_audit;
pub mod mail_message;
pub mod memory;
pub mod ocr_text;
pub mod outbox;
pub mod ppocr;
pub mod record_import;
pub mod smtp;
pub mod sqlite_codes;
pub mod sqlite_directory;
pub mod sqlite_index;
pub mod sqlite_likeness;
pub mod sqlite_seats;
pub mod tesseract;

pub use blob_index::BlobIndex;
pub use file_audit::FileAuditStore;
pub use outbox::OutboxMailer;
pub use ppocr::{PpOcrAnalyzer, PpOcrSettings};
pub use smtp::SmtpMailer;
pub use sqlite_directory::SqliteDirectory;
pub use sqlite_index::SqliteIndex;
pub use tesseract::TesseractAnalyzer;
