//! The DAO record as stored.

use codec::{Decode, Encode, MaxEncodedLen};
use datacoop_primitives::dao::{Collective, DaoRules, DaoStatus, TokenInfo};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;

use crate::{BalanceOf, Config};

/// A DAO's rules with this runtime's balance and block number types.
pub type RulesOf<T> = DaoRules<BalanceOf<T>, BlockNumberFor<T>>;

/// A name, bounded by `MaxNameLen`.
pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLen>;
/// A URI or URL, bounded by `MaxUriLen`.
pub type UriOf<T> = BoundedVec<u8, <T as Config>::MaxUriLen>;
/// A token symbol, bounded by `MaxSymbolLen`.
pub type SymbolOf<T> = BoundedVec<u8, <T as Config>::MaxSymbolLen>;

/// The stored form of a DAO's dataset token.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct StoredToken<T: Config> {
	/// The token's name.
	pub name: NameOf<T>,
	/// The token's symbol.
	pub symbol: SymbolOf<T>,
}

impl<T: Config> StoredToken<T> {
	/// As the primitives type other components read.
	pub fn info(&self) -> TokenInfo<&[u8]> {
		TokenInfo { name: &self.name[..], symbol: &self.symbol[..] }
	}
}

/// A registered data DAO.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Dao<T: Config> {
	/// Who may change it: its creator now, its governance later.
	pub admin: T::AccountId,
	/// Native tokens held from `admin` for this record.
	pub deposit: BalanceOf<T>,
	/// Human-readable name.
	pub name: NameOf<T>,
	/// Where the DAO's description, schema and terms live (IPFS, HTTPS, ...).
	pub metadata_uri: UriOf<T>,
	/// Its dataset token.
	pub token: StoredToken<T>,
	/// The collective server it trusts.
	pub collective: Collective<UriOf<T>>,
	/// What it accepts, how it rewards and governs.
	pub rules: RulesOf<T>,
	/// Whether it takes contributions.
	pub status: DaoStatus,
	/// The block it was created in.
	pub created_at: BlockNumberFor<T>,
}

/// A DAO as this runtime stores it.
pub type DaoOf<T> = Dao<T>;
