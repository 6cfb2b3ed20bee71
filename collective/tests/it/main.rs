//! The collective server's integration tests, one binary (each test binary links
//! polkadot-sdk again).

mod judge;
mod server;
