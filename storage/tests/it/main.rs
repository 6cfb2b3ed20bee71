//! The storage crate's integration tests, one binary (each test binary is linked
//! separately): the stores, the `datacoop-storage` service over HTTP, its garbage collection,
//! and S3 through moto's server. They need the `server` feature (on by default).

mod common;
mod gc;
mod s3;
mod service;
mod store;
