//! A key set's directory, `DIR/daos/NAME/`: the DAO's sealed secrets (`secrets.json`), its
//! rules (`rules.json`), the on-chain DAO it is bound to (`dao.json`, written by `bind`) and
//! its index of past contributions (`index.redb`) and what it released (`access.redb`). The file names are known here only; the
//! rest of the server asks a [`DaoDir`] for what it holds.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{
	access_db::{AccessDb, AccessDbError},
	sealed::{self, Sealer, Secrets},
	Index, IndexError, Rules, RulesError,
};

const SECRETS_FILE: &str = "secrets.json";
const RULES_FILE: &str = "rules.json";
const INDEX_FILE: &str = "index.redb";
const ACCESS_FILE: &str = "access.redb";
/// The on-chain DAO the key set serves (`{"dao_id": N}`).
const BINDING_FILE: &str = "dao.json";

/// What a DAO's directory says about the DAO it serves.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
struct Binding {
	dao_id: u32,
}

/// Why a key set cannot be set up, bound or served.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
	#[error("{path}: {why}")]
	File { path: String, why: String },
	#[error("{0}")]
	Seal(#[from] sealed::SealError),
	#[error("{0}")]
	Rules(#[from] RulesError),
	#[error("{name:?} already holds DAO {name:?}'s keys; choose another name")]
	Exists { name: String },
	#[error(
		"{name:?} is not bound to a DAO on chain: datacoop-collective bind --name {name} --dao ID"
	)]
	NotBound { name: String },
	#[error("{name:?} is bound to DAO #{bound}; a key set serves one DAO for good (init another for DAO #{wanted})")]
	BoundElsewhere { name: String, bound: u32, wanted: u32 },
	#[error(
		"{first:?} and {second:?} are both bound to DAO #{dao_id}: a DAO is served by one key set"
	)]
	SameDao { first: String, second: String, dao_id: u32 },
	#[error("the index of {name:?}: {source}")]
	Index { name: String, source: IndexError },
	#[error("{name:?}: {source}")]
	Access { name: String, source: AccessDbError },
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> SetupError {
	SetupError::File { path: path.display().to_string(), why: e.to_string() }
}

/// Whether `name` can name a key set: 1 to 64 letters, digits, `-` or `_` (a directory name
/// that cannot climb out of `DIR/daos/`).
pub fn valid_name(name: &str) -> bool {
	!name.is_empty()
		&& name.len() <= 64
		&& name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Key set `name`'s directory under the server's directory.
#[derive(Clone, Debug)]
pub struct DaoDir {
	name: String,
	path: PathBuf,
}

impl DaoDir {
	/// Key set `name`'s directory under `dir`, whether it holds a key set or not.
	pub fn new(dir: &Path, name: &str) -> DaoDir {
		DaoDir { name: name.into(), path: dir.join("daos").join(name) }
	}

	/// The key sets set up under `dir`, sorted by name.
	pub fn all(dir: &Path) -> std::io::Result<Vec<DaoDir>> {
		let mut all = Vec::new();
		let daos = dir.join("daos");
		if !daos.exists() {
			return Ok(all);
		}
		for entry in std::fs::read_dir(daos)? {
			let entry = entry?;
			if entry.path().join(SECRETS_FILE).exists() {
				all.push(DaoDir::new(dir, &entry.file_name().to_string_lossy()));
			}
		}
		all.sort_by(|a, b| a.name.cmp(&b.name));
		Ok(all)
	}

	/// The key set's name on this server.
	pub fn name(&self) -> &str {
		&self.name
	}

	/// Where its files are.
	pub fn path(&self) -> &Path {
		&self.path
	}

	fn file(&self, name: &str) -> PathBuf {
		self.path.join(name)
	}

	/// Whether a key set is here (its sealed secrets are).
	pub fn holds_keys(&self) -> bool {
		self.file(SECRETS_FILE).exists()
	}

	/// Creates the key set: new keys, sealed by `sealer`, and `rules` (checked). Answers the
	/// public keys to register on chain. An existing key set is never replaced.
	pub fn init(&self, rules: &Rules, sealer: &Sealer) -> Result<sealed::Public, SetupError> {
		if self.holds_keys() {
			return Err(SetupError::Exists { name: self.name.clone() });
		}
		rules.check().map_err(|why| RulesError { path: RULES_FILE.into(), why })?;
		std::fs::create_dir_all(&self.path).map_err(|e| file_error(&self.path, e))?;
		let text = serde_json::to_vec_pretty(rules).expect("rules serialize");
		let rules_file = self.file(RULES_FILE);
		std::fs::write(&rules_file, text).map_err(|e| file_error(&rules_file, e))?;
		Ok(Secrets::generate()?.seal(&self.file(SECRETS_FILE), sealer)?)
	}

	/// The public keys, read without opening the seal.
	pub fn public(&self) -> Result<sealed::Public, SetupError> {
		Ok(sealed::public(&self.file(SECRETS_FILE))?)
	}

	/// The secrets, unsealed by `sealer`.
	pub fn secrets(&self, sealer: &Sealer) -> Result<Secrets, SetupError> {
		Ok(Secrets::open(&self.file(SECRETS_FILE), sealer)?)
	}

	/// The rules, read and checked.
	pub fn rules(&self) -> Result<Rules, SetupError> {
		Ok(Rules::read(&self.file(RULES_FILE))?)
	}

	/// The on-chain DAO the key set is bound to, if it is.
	pub fn bound_dao(&self) -> Result<Option<u32>, SetupError> {
		let path = self.file(BINDING_FILE);
		let text = match std::fs::read(&path) {
			Ok(text) => text,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(file_error(&path, e)),
		};
		let binding: Binding = serde_json::from_slice(&text).map_err(|e| file_error(&path, e))?;
		Ok(Some(binding.dao_id))
	}

	/// Binds the key set to on-chain DAO `dao_id`, for good: binding it again to the same DAO
	/// changes nothing, to another is refused. (The caller checks on chain that the DAO
	/// registered these keys.)
	pub fn bind(&self, dao_id: u32) -> Result<(), SetupError> {
		if !self.holds_keys() {
			return Err(file_error(
				&self.file(SECRETS_FILE),
				"no such key set (datacoop-collective init)",
			));
		}
		match self.bound_dao()? {
			Some(bound) if bound == dao_id => return Ok(()),
			Some(bound) => {
				return Err(SetupError::BoundElsewhere {
					name: self.name.clone(),
					bound,
					wanted: dao_id,
				})
			},
			None => {},
		}
		// Written aside, then renamed: a crash leaves the key set unbound, never half bound.
		let path = self.file(BINDING_FILE);
		let aside = self.file(&format!("{BINDING_FILE}.new"));
		let text = serde_json::to_vec(&Binding { dao_id }).expect("a binding serializes");
		std::fs::write(&aside, text).map_err(|e| file_error(&aside, e))?;
		std::fs::rename(&aside, &path).map_err(|e| file_error(&path, e))
	}

	/// Opens the index of the DAO's past contributions (created empty if there is none).
	pub fn index(&self) -> Result<Index, SetupError> {
		Index::open(&self.file(INDEX_FILE))
			.map_err(|source| SetupError::Index { name: self.name.clone(), source })
	}

	/// Opens the database of what the key set released of DAO `dao_id`'s data (nonces,
	/// catalog, access log), created empty if there is none.
	pub fn access_db(&self, dao_id: u32) -> Result<AccessDb, SetupError> {
		AccessDb::open(&self.file(ACCESS_FILE), dao_id)
			.map_err(|source| SetupError::Access { name: self.name.clone(), source })
	}
}
