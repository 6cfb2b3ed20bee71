//! The grant record as stored, and the views the runtime API returns.

use codec::{Decode, Encode, MaxEncodedLen};
use datacoop_primitives::{
	dao::DaoId,
	governance::{GrantId, GrantInfo, Offer, Scope},
};
use frame_support::{CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;

use crate::{BalanceOf, Config};

/// A standing offer with this runtime's balance type.
pub type OfferOf<T> = Offer<BalanceOf<T>>;

/// A grant as the runtime API returns it, with this runtime's types.
pub type GrantInfoOf<T> =
	GrantInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// A grant of access to a DAO's data.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Grant<T: Config> {
	/// Its id (also its key in `Grants`).
	pub id: GrantId,
	/// The DAO whose data it opens.
	pub dao_id: DaoId,
	/// Who may use the data, and from whom the grant deposit is held.
	pub grantee: T::AccountId,
	/// What they may have.
	pub scope: Scope,
	/// The block it began in.
	pub starts: BlockNumberFor<T>,
	/// The first block in which it no longer holds.
	pub expires: BlockNumberFor<T>,
	/// Native tokens paid for it so far (each extension adds its fee).
	pub paid: BalanceOf<T>,
	/// Native tokens held from the grantee for this record (`GrantDeposit` when it was
	/// made), released when it goes: stored so a new `GrantDeposit` needs no migration.
	pub deposit: BalanceOf<T>,
}

impl<T: Config> Grant<T> {
	/// Whether it still holds at block `now`. Expiry is checked here, where a grant is read,
	/// never by a hook.
	pub fn is_live(&self, now: BlockNumberFor<T>) -> bool {
		now < self.expires
	}

	/// As the runtime API shows it to clients.
	pub fn info(self) -> GrantInfoOf<T> {
		GrantInfo {
			id: self.id,
			dao_id: self.dao_id,
			grantee: self.grantee,
			scope: self.scope,
			starts: self.starts,
			expires: self.expires,
			paid: self.paid,
		}
	}
}

/// What the benchmarks need from the runtime: DAOs, and holders of their dataset tokens.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<T: Config> {
	/// Creates a new active DAO administered by `admin` (funded enough for the DAO deposit),
	/// with a `holders_share` strictly between zero and one (so a fee reaches both the
	/// holders and the treasury), and returns its id. Every call creates another DAO, with
	/// its own collective keys.
	fn create_dao(admin: &T::AccountId) -> DaoId;
	/// Mints `amount` of DAO `dao_id`'s dataset token to `who`.
	fn mint(dao_id: DaoId, who: &T::AccountId, amount: BalanceOf<T>);
}
