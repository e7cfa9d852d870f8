//! The server's integration tests, in one binary (one link on 2 cores instead of one per file):
//! the real router on the embedded default, the AWS adapters at the wire, the gateway's own
//! answers from the template, the Lambda path, the
//! OCR fixtures, the workflow, members and policy over in-memory fakes, an old data directory
//! and an old bucket moving to the record index, and one contract suite
//! per port.

mod api;
mod aws;
mod bucket_import;
mod common;
mod contracts;
mod decode_ceiling;
mod edge;
mod lambda;
mod mail;
mod members;
mod ocr_fixtures;
mod records;
mod review;
mod seats;
mod subaddress;
mod unseen;
mod verify;
mod workflow;
