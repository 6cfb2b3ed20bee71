//! The measurement a DAO registers on chain: which program judges its contributions, and by
//! which rules. BLAKE2-256 over a context, the hash of this program's binary and the DAO's
//! rules in canonical JSON. Another binary or other rules give another measurement, and the
//! chain refuses their attestations.

use blake2::{digest::consts::U32, Blake2b, Digest};

use crate::Rules;

/// BLAKE2-256 of this program's binary, read from disk.
pub fn binary_hash() -> std::io::Result<[u8; 32]> {
	let mut file = std::fs::File::open(std::env::current_exe()?)?;
	let mut hasher = Blake2b::<U32>::new();
	std::io::copy(&mut file, &mut hasher)?;
	Ok(hasher.finalize().into())
}

/// The measurement of the binary hashed `binary` judging by `rules`. Canonical JSON: the
/// fields in their fixed order, the schema's object keys sorted (serde_json sorts them), so
/// the same rules always give the same bytes.
pub fn of(binary: &[u8; 32], rules: &Rules) -> [u8; 32] {
	let mut hasher = Blake2b::<U32>::new();
	hasher.update(b"datacoop/measurement/v1");
	hasher.update(binary);
	hasher.update(serde_json::to_vec(rules).expect("rules serialize"));
	hasher.finalize().into()
}
