//! The logic behind the calls: check everything first, hold the deposit, write last.

use alloc::vec::Vec;
use datacoop_primitives::{
	dao::{Collective, DaoId},
	governance::{Action, Offer, ProposalId, ProposalInfo, VoteInfo},
	traits::{AccessControl, DaoAdmin, DaoRegistry, TokenHolders},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	storage::with_storage_layer,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::*;
use sp_runtime::{
	traits::{CheckedAdd, CheckedSub, Saturating, Zero},
	SaturatedConversion,
};

use crate::{
	ActionOf, BalanceOf, CallActionOf, Config, DaoProposals, Error, Event, HoldReason,
	NextProposalId, Pallet, Proposal, ProposalOf, Proposals, VoteRecord, Voting,
};

impl<T: Config> Pallet<T> {
	/// Open proposal `id` as runtime APIs show it to clients.
	pub fn proposal_info(
		id: ProposalId,
	) -> Option<ProposalInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		Proposals::<T>::get(id).map(|p| Self::info(id, p))
	}

	/// DAO `dao_id`'s open proposals, oldest first. Walks that DAO's open proposals: for
	/// runtime APIs, never for calls.
	pub fn proposals_of(
		dao_id: DaoId,
	) -> Vec<ProposalInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let mut all: Vec<_> = DaoProposals::<T>::iter_key_prefix(dao_id)
			.filter_map(|id| Proposals::<T>::get(id).map(|p| Self::info(id, p)))
			.collect();
		all.sort_by_key(|p| p.id);
		all
	}

	/// `who`'s votes in DAO `dao_id` whose tokens are still frozen.
	pub fn votes_of(
		dao_id: DaoId,
		who: &T::AccountId,
	) -> Vec<VoteInfo<BalanceOf<T>, BlockNumberFor<T>>> {
		Voting::<T>::get(dao_id, who)
			.into_iter()
			.map(|v| VoteInfo {
				proposal_id: v.proposal_id,
				aye: v.aye,
				amount: v.amount,
				ends: v.ends,
			})
			.collect()
	}

	fn info(
		id: ProposalId,
		p: ProposalOf<T>,
	) -> ProposalInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> {
		let action = match p.action {
			Action::GrantAccess { grantee, scope, duration, fee } => {
				Action::GrantAccess { grantee, scope, duration, fee }
			},
			Action::RevokeAccess { grant_id } => Action::RevokeAccess { grant_id },
			Action::SetOffer { scope, price_per_day, max_days } => {
				Action::SetOffer { scope, price_per_day, max_days }
			},
			Action::RemoveOffer { scope } => Action::RemoveOffer { scope },
			Action::UpdateRules { rules } => Action::UpdateRules { rules },
			Action::UpdateCollective { collective, key_proof } => Action::UpdateCollective {
				collective: Collective {
					encryption_key: collective.encryption_key,
					attestation_signer: collective.attestation_signer,
					endpoint: collective.endpoint.into_inner(),
					measurement: collective.measurement,
				},
				key_proof,
			},
			Action::Retire => Action::Retire,
			Action::TreasurySpend { to, amount } => Action::TreasurySpend { to, amount },
		};
		ProposalInfo {
			id,
			dao_id: p.dao_id,
			proposer: p.proposer,
			action,
			description_uri: p.description_uri.into_inner(),
			deposit: p.deposit,
			escrow: p.escrow,
			ends: p.ends,
			quorum: p.quorum,
			approval_threshold: p.approval_threshold,
			ayes: p.ayes,
			nays: p.nays,
		}
	}

	pub(crate) fn do_propose(
		proposer: T::AccountId,
		dao_id: DaoId,
		action: CallActionOf<T>,
		description_uri: Vec<u8>,
	) -> Result<ProposalId, DispatchError> {
		let description_uri =
			BoundedVec::try_from(description_uri).map_err(|_| Error::<T>::DescriptionTooLong)?;
		let terms = T::Daos::dao_terms(dao_id).ok_or(Error::<T>::UnknownDao)?;
		// A retired DAO takes no new business, but its holders still wind it down: they may
		// spend what its treasury holds, end grants and withdraw offers.
		let winding_down = matches!(
			action,
			Action::TreasurySpend { .. } | Action::RevokeAccess { .. } | Action::RemoveOffer { .. }
		);
		ensure!(terms.active || winding_down, Error::<T>::DaoRetired);
		let (action, escrow) = Self::checked_action(&proposer, dao_id, action)?;

		let now = frame_system::Pallet::<T>::block_number();
		let ends = now.checked_add(&terms.rules.voting_period).ok_or(Error::<T>::Overflow)?;
		let proposal_id = NextProposalId::<T>::get();
		let next = proposal_id.checked_add(1).ok_or(Error::<T>::Overflow)?;

		let deposit = T::ProposalDeposit::get();
		T::Currency::hold(&HoldReason::ProposalDeposit.into(), &proposer, deposit)
			.map_err(|_| Error::<T>::CannotPayDeposit)?;
		if !escrow.is_zero() {
			T::Currency::hold(&HoldReason::Escrow.into(), &proposer, escrow)
				.map_err(|_| Error::<T>::CannotPayDeposit)?;
		}

		Proposals::<T>::insert(
			proposal_id,
			Proposal {
				dao_id,
				proposer: proposer.clone(),
				action,
				description_uri,
				deposit,
				escrow,
				ends,
				quorum: terms.rules.quorum,
				approval_threshold: terms.rules.approval_threshold,
				ayes: Zero::zero(),
				nays: Zero::zero(),
			},
		);
		DaoProposals::<T>::insert(dao_id, proposal_id, ());
		NextProposalId::<T>::put(next);
		Self::deposit_event(Event::Proposed { proposal_id, dao_id, proposer, ends });
		Ok(proposal_id)
	}

	/// Checks what can be checked of an action before the vote, bounds it for storage, and
	/// says what fee it escrows. The checks are those the action meets when it runs (the
	/// access-grant and DAO pallets say what they accept): a proposal that could never apply
	/// is refused now, not after a vote. What depends on the state at the close (a treasury's
	/// balance, a grant still existing, keys still free) is checked then.
	fn checked_action(
		proposer: &T::AccountId,
		dao_id: DaoId,
		action: CallActionOf<T>,
	) -> Result<(ActionOf<T>, BalanceOf<T>), DispatchError> {
		let mut escrow = Zero::zero();
		let action = match action {
			Action::GrantAccess { grantee, scope, duration, fee } => {
				ensure!(&grantee == proposer, Error::<T>::GrantForOther);
				ensure!(!duration.is_zero(), Error::<T>::ZeroDuration);
				T::Access::check_grant(&scope, duration)?;
				escrow = fee;
				Action::GrantAccess { grantee, scope, duration, fee }
			},
			Action::RevokeAccess { grant_id } => Action::RevokeAccess { grant_id },
			Action::SetOffer { scope, price_per_day, max_days } => {
				ensure!(!price_per_day.is_zero() && max_days > 0, Error::<T>::InvalidOffer);
				T::Access::check_offer(&Offer { scope, price_per_day, max_days })?;
				Action::SetOffer { scope, price_per_day, max_days }
			},
			Action::RemoveOffer { scope } => Action::RemoveOffer { scope },
			Action::UpdateRules { rules } => {
				T::Admin::check_rules(&rules)?;
				Action::UpdateRules { rules }
			},
			Action::UpdateCollective { collective, key_proof } => {
				let endpoint = BoundedVec::try_from(collective.endpoint.clone())
					.map_err(|_| Error::<T>::EndpointTooLong)?;
				T::Admin::check_collective(dao_id, &collective, &key_proof)?;
				Action::UpdateCollective {
					collective: Collective {
						encryption_key: collective.encryption_key,
						attestation_signer: collective.attestation_signer,
						endpoint,
						measurement: collective.measurement,
					},
					key_proof,
				}
			},
			Action::Retire => Action::Retire,
			Action::TreasurySpend { to, amount } => {
				ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
				Action::TreasurySpend { to, amount }
			},
		};
		Ok((action, escrow))
	}

	pub(crate) fn do_vote(
		voter: T::AccountId,
		proposal_id: ProposalId,
		aye: bool,
		amount: Option<BalanceOf<T>>,
	) -> DispatchResult {
		let mut proposal = Proposals::<T>::get(proposal_id).ok_or(Error::<T>::UnknownProposal)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < proposal.ends, Error::<T>::VotingClosed);
		let dao_id = proposal.dao_id;
		let balance = T::Tokens::balance(dao_id, &voter);
		let amount = amount.unwrap_or(balance);
		ensure!(!amount.is_zero(), Error::<T>::NoTokens);
		ensure!(amount <= balance, Error::<T>::NotEnoughTokens);

		let mut votes = Voting::<T>::get(dao_id, &voter);
		// Votes whose periods ended no longer need their tokens frozen: their tallies are final.
		votes.retain(|v| v.ends > now);
		let record = VoteRecord { proposal_id, aye, amount, ends: proposal.ends };
		match votes.iter_mut().find(|v| v.proposal_id == proposal_id) {
			Some(previous) => {
				// A changed vote: its old tokens leave the tally before the new ones enter.
				Self::tally(&mut proposal, previous.aye, previous.amount, false)?;
				*previous = record;
			},
			None => votes.try_push(record).map_err(|_| Error::<T>::TooManyVotes)?,
		}
		Self::tally(&mut proposal, aye, amount, true)?;
		T::Tokens::set_freeze(dao_id, &voter, Self::largest(&votes))?;

		Voting::<T>::insert(dao_id, &voter, votes);
		Proposals::<T>::insert(proposal_id, proposal);
		Self::deposit_event(Event::Voted { proposal_id, voter, aye, amount });
		Ok(())
	}

	/// Adds `amount` to (or takes it from) the ayes or the nays.
	fn tally(
		proposal: &mut ProposalOf<T>,
		aye: bool,
		amount: BalanceOf<T>,
		add: bool,
	) -> Result<(), Error<T>> {
		let side = if aye { &mut proposal.ayes } else { &mut proposal.nays };
		*side = if add { side.checked_add(&amount) } else { side.checked_sub(&amount) }
			.ok_or(Error::<T>::Overflow)?;
		Ok(())
	}

	/// The tokens a holder's votes freeze: the largest of them.
	fn largest(votes: &[VoteRecord<BalanceOf<T>, BlockNumberFor<T>>]) -> BalanceOf<T> {
		votes.iter().map(|v| v.amount).max().unwrap_or_else(Zero::zero)
	}

	pub(crate) fn do_close(proposal_id: ProposalId) -> DispatchResult {
		let proposal = Proposals::<T>::get(proposal_id).ok_or(Error::<T>::UnknownProposal)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now >= proposal.ends, Error::<T>::VotingOpen);

		// Both come back whatever the outcome; a passed GrantAccess then pays its fee out of
		// the released escrow (the grantee is the proposer), in the action below.
		T::Currency::release(
			&HoldReason::ProposalDeposit.into(),
			&proposal.proposer,
			proposal.deposit,
			Precision::BestEffort,
		)?;
		if !proposal.escrow.is_zero() {
			T::Currency::release(
				&HoldReason::Escrow.into(),
				&proposal.proposer,
				proposal.escrow,
				Precision::BestEffort,
			)?;
		}

		let supply = T::Tokens::total_supply(proposal.dao_id);
		let passed = Self::passes(&proposal, supply);
		let dao_id = proposal.dao_id;
		let (ayes, nays) = (proposal.ayes, proposal.nays);
		// A failed action changes nothing (its own storage layer), and the proposal is closed
		// all the same: its outcome is in the event.
		let result = passed.then(|| with_storage_layer(|| Self::execute(dao_id, proposal.action)));

		Proposals::<T>::remove(proposal_id);
		DaoProposals::<T>::remove(dao_id, proposal_id);
		Self::deposit_event(Event::Closed { proposal_id, dao_id, ayes, nays, passed, result });
		Ok(())
	}

	/// Whether the proposal passes with this token supply (see
	/// [`datacoop_primitives::governance::passes`]).
	pub fn passes(proposal: &ProposalOf<T>, supply: BalanceOf<T>) -> bool {
		datacoop_primitives::governance::passes(
			proposal.ayes.saturated_into(),
			proposal.nays.saturated_into(),
			supply.saturated_into(),
			proposal.quorum,
			proposal.approval_threshold,
		)
	}

	fn execute(dao_id: DaoId, action: ActionOf<T>) -> DispatchResult {
		match action {
			Action::GrantAccess { grantee, scope, duration, fee } => {
				T::Access::grant(dao_id, &grantee, scope, duration, fee)
			},
			Action::RevokeAccess { grant_id } => T::Access::revoke(dao_id, grant_id),
			Action::SetOffer { scope, price_per_day, max_days } => {
				T::Access::set_offer(dao_id, Offer { scope, price_per_day, max_days })
			},
			Action::RemoveOffer { scope } => T::Access::remove_offer(dao_id, scope),
			Action::UpdateRules { rules } => T::Admin::update_rules(dao_id, rules),
			Action::UpdateCollective { collective, key_proof } => T::Admin::update_collective(
				dao_id,
				Collective {
					encryption_key: collective.encryption_key,
					attestation_signer: collective.attestation_signer,
					endpoint: collective.endpoint.into_inner(),
					measurement: collective.measurement,
				},
				&key_proof,
			),
			Action::Retire => T::Admin::retire(dao_id),
			Action::TreasurySpend { to, amount } => T::Access::spend(dao_id, &to, amount),
		}
	}

	pub(crate) fn do_unlock(dao_id: DaoId, who: T::AccountId) -> DispatchResult {
		let mut votes = Voting::<T>::get(dao_id, &who);
		let before = votes.len();
		let now = frame_system::Pallet::<T>::block_number();
		votes.retain(|v| v.ends > now);
		ensure!(votes.len() < before, Error::<T>::NothingToUnlock);
		let frozen = Self::largest(&votes);
		T::Tokens::set_freeze(dao_id, &who, frozen)?;
		if votes.is_empty() {
			Voting::<T>::remove(dao_id, &who);
		} else {
			Voting::<T>::insert(dao_id, &who, votes);
		}
		Self::deposit_event(Event::Unlocked { dao_id, who, frozen });
		Ok(())
	}

	/// Invariants: proposal ids below `NextProposalId`; the tally of every proposal still
	/// voting is exactly the sum of the recorded votes on it; every holder's frozen tokens are
	/// the largest of their recorded votes, and no empty vote list is stored; what is held
	/// from each account as proposal deposits and escrow is exactly what its open proposals
	/// hold; `DaoProposals` lists exactly the open proposals, each under its own DAO.
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let next = NextProposalId::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();
		let mut tallies: BTreeMap<ProposalId, (u128, u128)> = BTreeMap::new();
		for (dao_id, who, votes) in Voting::<T>::iter() {
			ensure!(!votes.is_empty(), "an empty vote list is stored");
			ensure!(
				T::Tokens::frozen(dao_id, &who) == Self::largest(&votes),
				"frozen tokens are not the largest vote"
			);
			for v in votes.iter().filter(|v| v.ends > now) {
				let t = tallies.entry(v.proposal_id).or_default();
				let amount: u128 = v.amount.saturated_into();
				if v.aye {
					t.0 += amount
				} else {
					t.1 += amount
				}
			}
		}
		let mut held: BTreeMap<T::AccountId, (BalanceOf<T>, BalanceOf<T>)> = BTreeMap::new();
		for (dao_id, id, ()) in DaoProposals::<T>::iter() {
			ensure!(
				Proposals::<T>::get(id).is_some_and(|p| p.dao_id == dao_id),
				"DaoProposals lists a proposal that is not open, or under another DAO"
			);
		}
		for (id, p) in Proposals::<T>::iter() {
			ensure!(id < next, "a proposal id is not below NextProposalId");
			ensure!(
				DaoProposals::<T>::contains_key(p.dao_id, id),
				"an open proposal is missing from DaoProposals"
			);
			if p.ends > now {
				let (ayes, nays) = tallies.remove(&id).unwrap_or_default();
				ensure!(
					(ayes, nays) == (p.ayes.saturated_into(), p.nays.saturated_into()),
					"a tally is not the sum of its votes"
				);
			}
			let h = held.entry(p.proposer.clone()).or_insert((Zero::zero(), Zero::zero()));
			h.0 = h.0.saturating_add(p.deposit);
			h.1 = h.1.saturating_add(p.escrow);
		}
		ensure!(tallies.is_empty(), "votes recorded for a proposal that is not open");
		for (who, (deposits, escrow)) in held {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ProposalDeposit.into(), &who) == deposits,
				"held proposal deposits differ from the open proposals'"
			);
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::Escrow.into(), &who) == escrow,
				"escrowed fees differ from the open proposals'"
			);
		}
		Ok(())
	}
}
