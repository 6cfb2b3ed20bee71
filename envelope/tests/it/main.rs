//! The envelope's integration tests, one binary (each test binary is linked separately): the
//! C2SP CCTV vectors, interoperability with the `age` tool, and round trips and damage.

mod cctv;
mod interop;
mod stream;
