//! The contribution record as stored.

use codec::{Decode, Encode, MaxEncodedLen};
use datacoop_primitives::{
	contribution::{Reason, Scores},
	dao::DaoId,
};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;

use crate::{BalanceOf, Config};

/// A storage URL, bounded by `MaxUrlLen`.
pub type UrlOf<T> = BoundedVec<u8, <T as Config>::MaxUrlLen>;

/// Where a contribution stands.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen, Debug)]
pub enum ContributionStatus<Balance, BlockNumber> {
	/// Waiting for the DAO's collective server; the deposit is held.
	Pending,
	/// Judged valid and good enough: `reward` dataset tokens were minted to the contributor.
	Accepted { scores: Scores, reward: Balance, at: BlockNumber },
	/// Judged invalid or below the DAO's minimum score; `slashed` of the deposit was burned.
	Rejected { scores: Scores, reason: Reason, slashed: Balance, at: BlockNumber },
}

/// A contribution to a data DAO.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Contribution<T: Config> {
	/// The DAO it was submitted to.
	pub dao_id: DaoId,
	/// Who submitted it and is paid for it.
	pub contributor: T::AccountId,
	/// Where its ciphertext is stored.
	pub url: UrlOf<T>,
	/// BLAKE2-256 of the ciphertext.
	pub ciphertext_hash: H256,
	/// Size of the ciphertext, in bytes.
	pub ciphertext_size: u64,
	/// The native deposit held from the contributor while it is Pending.
	pub deposit: BalanceOf<T>,
	/// The native deposit held from the contributor while this record is on chain.
	pub record_deposit: BalanceOf<T>,
	/// The block it was submitted in.
	pub submitted_at: BlockNumberFor<T>,
	/// Pending, Accepted or Rejected.
	pub status: ContributionStatus<BalanceOf<T>, BlockNumberFor<T>>,
}

/// A contribution as this runtime stores it.
pub type ContributionOf<T> = Contribution<T>;

/// What the benchmarks need from the runtime: a DAO whose collective signs with `signer`.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Creates an active DAO administered by `admin`, with attestation key `signer`,
	/// measurement `measurement`, sizes 1 byte to 1 GiB, and returns its id.
	fn create_dao(admin: AccountId, signer: [u8; 32], measurement: H256) -> DaoId;
}
