//! Unit tests of the Data DAOs pallet. Each runs through `build_and_execute`, which checks
//! the pallet's invariants on the state the test leaves.

use datacoop_primitives::dao::{Collective, DaoId, DaoStatus, TokenInfo};
use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{DispatchError, DispatchResult, Permill};

use crate::{
	mock::*, AllowLocalUrls, AttestationSigners, Daos, Error, Event, HoldReason, NextDaoId, RulesOf,
};

/// The attestation key a collective server made from seed `[n; 32]`.
fn key(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n; 32])
}

fn collective(fill: u8) -> Collective<Vec<u8>> {
	Collective {
		encryption_key: [fill; 32],
		attestation_signer: key(fill + 1).public().0,
		endpoint: b"http://collective.example:8700".to_vec(),
		measurement: H256::repeat_byte(fill),
	}
}

/// `c`'s attestation key (the keys of the tests are made from seeds of one repeated byte).
fn signer_of(c: &Collective<Vec<u8>>) -> sr25519::Pair {
	(0..=255u8).map(key).find(|pair| pair.public().0 == c.attestation_signer).expect("a test key")
}

/// `c`'s attestation key's consent to serve the existing DAO `dao_id`.
fn proof(dao_id: DaoId, c: &Collective<Vec<u8>>) -> [u8; 64] {
	signer_of(c).sign(&DataDaos::key_proof_payload(dao_id, &c.encryption_key)).0
}

/// `c`'s attestation key's consent to serve the DAO `creator` creates as `dao_id`.
fn create_proof(creator: u64, dao_id: DaoId, c: &Collective<Vec<u8>>) -> [u8; 64] {
	signer_of(c).sign(&DataDaos::create_key_proof_payload(&creator, dao_id, &c.encryption_key)).0
}

/// `create` with the collective's proof for the caller (account 0 for an unsigned origin) and
/// the id the DAO gets.
fn create_with_proof(
	origin: RuntimeOrigin,
	name: Vec<u8>,
	metadata_uri: Vec<u8>,
	token: TokenInfo<Vec<u8>>,
	c: Collective<Vec<u8>>,
	rules: RulesOf<Test>,
) -> DispatchResult {
	let creator = frame_system::ensure_signed(origin.clone()).unwrap_or_default();
	let key_proof = create_proof(creator, NextDaoId::<Test>::get(), &c);
	DataDaos::create(origin, name, metadata_uri, token, c, rules, key_proof)
}

/// `update_collective` with the new collective's proof for the DAO.
fn update_with_proof(
	origin: RuntimeOrigin,
	dao_id: DaoId,
	c: Collective<Vec<u8>>,
) -> DispatchResult {
	let key_proof = proof(dao_id, &c);
	DataDaos::update_collective(origin, dao_id, c, key_proof)
}

fn token() -> TokenInfo<Vec<u8>> {
	TokenInfo { name: b"Reddit Comments 2026".to_vec(), symbol: b"RDC26".to_vec() }
}

fn rules() -> RulesOf<Test> {
	datacoop_primitives::dao::DaoRules {
		min_contribution_size: 1,
		max_contribution_size: 10 << 20,
		reward_at_full_score: 100,
		min_score: Permill::from_percent(40),
		contribution_deposit: 50,
		voting_period: 20,
		quorum: Permill::from_percent(20),
		approval_threshold: Permill::from_percent(50),
		holders_share: Permill::from_percent(80),
	}
}

/// Creates the next DAO; DAO n's collective keys are `collective(7 + 2n)`'s (one key set
/// serves one DAO).
fn create(who: u64) -> sp_runtime::DispatchResult {
	let fill = 7 + 2 * NextDaoId::<Test>::get() as u8;
	create_with_proof(
		RuntimeOrigin::signed(who),
		b"Reddit exports".to_vec(),
		b"ipfs://bafy-schema".to_vec(),
		token(),
		collective(fill),
		rules(),
	)
}

fn held(who: u64) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::DataDaos(HoldReason::DaoDeposit), &who)
}

#[test]
fn create_registers_a_dao_and_holds_its_deposit() {
	build_and_execute(|| {
		assert_ok!(create(ALICE));
		assert_ok!(create(BOB));

		let dao = Daos::<Test>::get(0).unwrap();
		assert_eq!(dao.admin, ALICE);
		assert_eq!(&dao.name[..], b"Reddit exports");
		assert_eq!(&dao.token.symbol[..], b"RDC26");
		assert_eq!(dao.collective.encryption_key, [7; 32]);
		assert_eq!(dao.status, DaoStatus::Active);
		assert_eq!(dao.created_at, 1);
		// Base 1,000 plus 10 per byte of the record.
		assert_eq!(dao.deposit, 1_000 + 10 * codec::Encode::encoded_size(&dao) as u128);
		assert_eq!(held(ALICE), dao.deposit);
		assert_eq!(Balances::free_balance(ALICE), 1_000_000 - dao.deposit);
		assert_eq!(Daos::<Test>::get(1).unwrap().admin, BOB);
		assert_eq!(NextDaoId::<Test>::get(), 2);
		System::assert_has_event(
			Event::Created { dao_id: 0, admin: ALICE, deposit: dao.deposit }.into(),
		);
	});
}

#[test]
fn create_rejects_bad_input_without_changing_anything() {
	build_and_execute(|| {
		let attempt = |name: Vec<u8>,
		               uri: Vec<u8>,
		               token: TokenInfo<Vec<u8>>,
		               c: Collective<Vec<u8>>,
		               r: RulesOf<Test>| {
			create_with_proof(RuntimeOrigin::signed(ALICE), name, uri, token, c, r)
		};
		let ok_name = || b"Reddit exports".to_vec();
		let ok_uri = || b"ipfs://x".to_vec();

		assert_noop!(
			attempt(vec![], ok_uri(), token(), collective(7), rules()),
			Error::<Test>::EmptyName
		);
		assert_noop!(
			attempt(vec![b'n'; 65], ok_uri(), token(), collective(7), rules()),
			Error::<Test>::NameTooLong
		);
		assert_noop!(
			attempt(ok_name(), vec![b'u'; 129], token(), collective(7), rules()),
			Error::<Test>::MetadataUriTooLong
		);

		let bad_token =
			|name: &[u8], symbol: &[u8]| TokenInfo { name: name.to_vec(), symbol: symbol.to_vec() };
		assert_noop!(
			attempt(ok_name(), ok_uri(), bad_token(b"", b"X"), collective(7), rules()),
			Error::<Test>::EmptyName
		);
		assert_noop!(
			attempt(ok_name(), ok_uri(), bad_token(b"T", b""), collective(7), rules()),
			Error::<Test>::InvalidTokenSymbol
		);
		assert_noop!(
			attempt(ok_name(), ok_uri(), bad_token(b"T", b"R D"), collective(7), rules()),
			Error::<Test>::InvalidTokenSymbol
		);
		assert_noop!(
			attempt(ok_name(), ok_uri(), bad_token(b"T", b"ABCDEFGHIJKLM"), collective(7), rules()),
			Error::<Test>::InvalidTokenSymbol
		);

		let with_endpoint = |e: &[u8]| Collective { endpoint: e.to_vec(), ..collective(7) };
		for bad in [&b"ftp://host"[..], b"http://", b"https:///path", b"host:8700", b"http://a b"] {
			assert_noop!(
				attempt(ok_name(), ok_uri(), token(), with_endpoint(bad), rules()),
				Error::<Test>::InvalidEndpoint
			);
		}
		let mut long = b"https://".to_vec();
		long.resize(129, b'a');
		assert_noop!(
			attempt(ok_name(), ok_uri(), token(), with_endpoint(&long), rules()),
			Error::<Test>::EndpointTooLong
		);
		let zero_key = Collective { encryption_key: [0; 32], ..collective(7) };
		assert_noop!(
			attempt(ok_name(), ok_uri(), token(), zero_key, rules()),
			Error::<Test>::InvalidCollectiveKey
		);

		let with = |f: &dyn Fn(&mut RulesOf<Test>)| {
			let mut r = rules();
			f(&mut r);
			r
		};
		assert_noop!(
			attempt(
				ok_name(),
				ok_uri(),
				token(),
				collective(7),
				with(&|r| r.min_contribution_size = 0)
			),
			Error::<Test>::InvalidSizeRange
		);
		assert_noop!(
			attempt(
				ok_name(),
				ok_uri(),
				token(),
				collective(7),
				with(&|r| r.min_contribution_size = r.max_contribution_size + 1)
			),
			Error::<Test>::InvalidSizeRange
		);
		assert_noop!(
			attempt(
				ok_name(),
				ok_uri(),
				token(),
				collective(7),
				with(&|r| r.max_contribution_size = u64::MAX)
			),
			Error::<Test>::ContributionSizeTooLarge
		);
		assert_noop!(
			attempt(
				ok_name(),
				ok_uri(),
				token(),
				collective(7),
				with(&|r| r.reward_at_full_score = 0)
			),
			Error::<Test>::ZeroReward
		);
		assert_noop!(
			attempt(ok_name(), ok_uri(), token(), collective(7), with(&|r| r.voting_period = 9)),
			Error::<Test>::VotingPeriodTooShort
		);
		// A vote may freeze its tokens for at most MaxVotingPeriod (100,000 blocks here).
		assert_noop!(
			attempt(
				ok_name(),
				ok_uri(),
				token(),
				collective(7),
				with(&|r| r.voting_period = 100_001)
			),
			Error::<Test>::VotingPeriodTooLong
		);
		assert_ok!(DataDaos::check_rules(&with(&|r| r.voting_period = 100_000)));
		assert_noop!(
			attempt(
				ok_name(),
				ok_uri(),
				token(),
				collective(7),
				with(&|r| r.quorum = Permill::zero())
			),
			Error::<Test>::InvalidThreshold
		);
		assert_noop!(
			attempt(
				ok_name(),
				ok_uri(),
				token(),
				collective(7),
				with(&|r| r.approval_threshold = Permill::zero())
			),
			Error::<Test>::InvalidThreshold
		);

		assert_noop!(create(POOR), Error::<Test>::CannotPayDeposit);
		assert_noop!(
			create_with_proof(
				RuntimeOrigin::none(),
				ok_name(),
				ok_uri(),
				token(),
				collective(7),
				rules()
			),
			DispatchError::BadOrigin
		);
		assert_eq!(NextDaoId::<Test>::get(), 0);
	});
}

#[test]
fn only_the_admin_or_root_changes_a_dao() {
	build_and_execute(|| {
		assert_ok!(create(ALICE));
		assert_noop!(
			DataDaos::update_rules(RuntimeOrigin::signed(BOB), 0, rules()),
			Error::<Test>::NotAdmin
		);
		assert_noop!(
			update_with_proof(RuntimeOrigin::signed(BOB), 0, collective(9)),
			Error::<Test>::NotAdmin
		);
		assert_noop!(DataDaos::retire(RuntimeOrigin::signed(BOB), 0), Error::<Test>::NotAdmin);
		assert_noop!(DataDaos::retire(RuntimeOrigin::signed(ALICE), 5), Error::<Test>::UnknownDao);

		let mut new_rules = rules();
		new_rules.min_score = Permill::from_percent(70);
		assert_ok!(DataDaos::update_rules(RuntimeOrigin::signed(ALICE), 0, new_rules.clone()));
		assert_eq!(Daos::<Test>::get(0).unwrap().rules, new_rules);
		System::assert_last_event(Event::RulesUpdated { dao_id: 0 }.into());

		assert_ok!(DataDaos::update_rules(RuntimeOrigin::root(), 0, rules()));
		assert_eq!(Daos::<Test>::get(0).unwrap().rules, rules());

		let mut bad = rules();
		bad.reward_at_full_score = 0;
		assert_noop!(
			DataDaos::update_rules(RuntimeOrigin::signed(ALICE), 0, bad),
			Error::<Test>::ZeroReward
		);
	});
}

#[test]
fn update_collective_adjusts_the_deposit_to_the_record_size() {
	build_and_execute(|| {
		assert_ok!(create(ALICE));
		let before = Daos::<Test>::get(0).unwrap().deposit;

		let longer = Collective {
			endpoint: b"https://collective.example.org:8700/v1".to_vec(),
			..collective(9)
		};
		assert_ok!(update_with_proof(RuntimeOrigin::signed(ALICE), 0, longer));
		let dao = Daos::<Test>::get(0).unwrap();
		assert_eq!(dao.collective.measurement, H256::repeat_byte(9));
		let grown = b"https://collective.example.org:8700/v1".len()
			- b"http://collective.example:8700".len();
		assert_eq!(dao.deposit, before + 10 * grown as u128);
		assert_eq!(held(ALICE), dao.deposit);
		System::assert_has_event(
			Event::CollectiveUpdated { dao_id: 0, measurement: H256::repeat_byte(9) }.into(),
		);

		// Back to the short endpoint: the difference is released.
		assert_ok!(update_with_proof(RuntimeOrigin::signed(ALICE), 0, collective(7)));
		assert_eq!(Daos::<Test>::get(0).unwrap().deposit, before);
		assert_eq!(held(ALICE), before);
		assert_eq!(Balances::free_balance(ALICE), 1_000_000 - before);
	});
}

#[test]
fn a_retired_dao_keeps_its_record_but_takes_no_changes() {
	build_and_execute(|| {
		assert_ok!(create(ALICE));
		assert_ok!(DataDaos::active_dao(0).map(|_| ()));
		assert_ok!(DataDaos::retire(RuntimeOrigin::signed(ALICE), 0));
		System::assert_last_event(Event::Retired { dao_id: 0 }.into());

		assert!(matches!(DataDaos::active_dao(0), Err(Error::<Test>::DaoRetired)));
		assert!(matches!(DataDaos::active_dao(1), Err(Error::<Test>::UnknownDao)));
		assert_eq!(Daos::<Test>::get(0).unwrap().status, DaoStatus::Retired);
		assert_noop!(DataDaos::retire(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::DaoRetired);
		assert_noop!(
			DataDaos::update_rules(RuntimeOrigin::signed(ALICE), 0, rules()),
			Error::<Test>::DaoRetired
		);
		assert_noop!(
			update_with_proof(RuntimeOrigin::signed(ALICE), 0, collective(9)),
			Error::<Test>::DaoRetired
		);
		// The deposit stays held: the record stays.
		assert_eq!(held(ALICE), Daos::<Test>::get(0).unwrap().deposit);
	});
}

#[test]
fn try_state_catches_a_deposit_that_is_not_held() {
	new_test_ext().execute_with(|| {
		assert_ok!(create(ALICE));
		Daos::<Test>::mutate(0, |dao| dao.as_mut().unwrap().deposit += 1);
		assert!(DataDaos::do_try_state().is_err());
	});
}

/// The mirror attack: a copycat DAO registers a victim DAO's collective keys, so that the
/// victim's server judges contributions mirrored into the copycat (and later releases data
/// on the copycat's vote). One key set serves exactly one DAO, with its consent.
#[test]
fn a_dao_cannot_register_another_daos_collective_keys() {
	build_and_execute(|| {
		assert_ok!(create(ALICE));
		let victim = collective(7);
		let attempt = |c: Collective<Vec<u8>>, key_proof: [u8; 64]| {
			DataDaos::create(
				RuntimeOrigin::signed(BOB),
				b"Copycat".to_vec(),
				vec![],
				token(),
				c,
				rules(),
				key_proof,
			)
		};
		// The copycat has no consent for its DAO, only the victim's for DAO 0 (as created by
		// ALICE, and as it exists).
		assert_noop!(
			attempt(victim.clone(), create_proof(ALICE, 0, &victim)),
			Error::<Test>::BadKeyProof
		);
		assert_noop!(attempt(victim.clone(), proof(1, &victim)), Error::<Test>::BadKeyProof);
		// Even with the victim server's consent for BOB's DAO 1, the signer serves DAO 0.
		assert_noop!(
			attempt(victim.clone(), create_proof(BOB, 1, &victim)),
			Error::<Test>::CollectiveKeyInUse
		);

		// Nor by rotating to them later.
		assert_ok!(create(BOB));
		assert_noop!(
			DataDaos::update_collective(
				RuntimeOrigin::signed(BOB),
				1,
				victim.clone(),
				proof(0, &victim)
			),
			Error::<Test>::BadKeyProof
		);
		assert_noop!(
			update_with_proof(RuntimeOrigin::signed(BOB), 1, victim.clone()),
			Error::<Test>::CollectiveKeyInUse
		);
		// A DAO may keep its own keys while changing its endpoint.
		let moved = Collective { endpoint: b"https://moved.example".to_vec(), ..victim.clone() };
		assert_ok!(update_with_proof(RuntimeOrigin::signed(ALICE), 0, moved));
		assert_eq!(AttestationSigners::<Test>::get(victim.attestation_signer), Some(0));
		// Keys a DAO rotated away from are let go.
		assert_ok!(update_with_proof(RuntimeOrigin::signed(ALICE), 0, collective(41)));
		assert_eq!(AttestationSigners::<Test>::get(victim.attestation_signer), None);
		assert_eq!(AttestationSigners::<Test>::get(collective(41).attestation_signer), Some(0));
	});
}

/// The squat: DAO 0 proposes (or sends) new collective keys; they are public from then on,
/// and another DAO's admin registers them first, so DAO 0's change fails, round after round.
/// A key set is registered only with its server's consent for that very DAO.
#[test]
fn keys_another_dao_shows_cannot_be_taken_first() {
	build_and_execute(|| {
		assert_ok!(create(ALICE));
		assert_ok!(create(BOB));
		// DAO 0's new keys, with the server's consent for DAO 0 (what its proposal shows).
		let new = collective(51);
		let shown = proof(0, &new);
		// BOB, admin of DAO 1, tries to take them with what was shown: refused.
		assert_noop!(
			DataDaos::update_collective(RuntimeOrigin::signed(BOB), 1, new.clone(), shown),
			Error::<Test>::BadKeyProof
		);
		// Nor with a signature of his own.
		let own = key(9).sign(&DataDaos::key_proof_payload(1, &new.encryption_key)).0;
		assert_noop!(
			DataDaos::update_collective(RuntimeOrigin::signed(BOB), 1, new.clone(), own),
			Error::<Test>::BadKeyProof
		);
		// Pairing DAO 0's encryption key with his own signer (which consents) takes nothing
		// from DAO 0: encryption keys are not held to one DAO.
		let paired = Collective { attestation_signer: key(60).public().0, ..new.clone() };
		assert_ok!(update_with_proof(RuntimeOrigin::signed(BOB), 1, paired));
		assert_ok!(DataDaos::update_collective(RuntimeOrigin::signed(ALICE), 0, new, shown));
		// A proof for another chain (another genesis hash) is no proof here.
		let next = collective(53);
		let payload =
			datacoop_primitives::dao::collective_key_payload(&[9; 32], 0, &next.encryption_key);
		let elsewhere = key(54).sign(&payload).0;
		assert_noop!(
			DataDaos::update_collective(RuntimeOrigin::signed(ALICE), 0, next, elsewhere),
			Error::<Test>::BadKeyProof
		);
	});
}

/// The creation race: ALICE's `create`, with her server's consent for the next id, waits in
/// the pool; BOB copies its keys and proof into a `create` of his own (or any creation that
/// takes the id) to register the keys first and leave ALICE's creation failing. The consent
/// names its creator, so it is of no use to BOB, at any id, and not as an existing DAO's
/// proof either.
#[test]
fn a_create_proof_serves_its_creator_only() {
	build_and_execute(|| {
		let keys = collective(61);
		let seen = create_proof(ALICE, 0, &keys);
		let create_as = |who: u64, key_proof: [u8; 64]| {
			DataDaos::create(
				RuntimeOrigin::signed(who),
				b"Race".to_vec(),
				vec![],
				token(),
				keys.clone(),
				rules(),
				key_proof,
			)
		};
		assert_noop!(create_as(BOB, seen), Error::<Test>::BadKeyProof);
		// BOB takes id 0 with keys of his own, then tries ALICE's keys on his DAO.
		assert_ok!(create(BOB));
		assert_noop!(
			DataDaos::update_collective(RuntimeOrigin::signed(BOB), 0, keys.clone(), seen),
			Error::<Test>::BadKeyProof
		);
		// Nor does the server's consent to serve a DAO 1 that exists (another payload) stand
		// for BOB's creation of DAO 1.
		assert_noop!(create_as(BOB, proof(1, &keys)), Error::<Test>::BadKeyProof);
		// ALICE's proof was for id 0, which is taken: she asks her server for id 1.
		assert_noop!(create_as(ALICE, seen), Error::<Test>::BadKeyProof);
		assert_ok!(create_as(ALICE, create_proof(ALICE, 1, &keys)));
		assert_eq!(AttestationSigners::<Test>::get(keys.attestation_signer), Some(1));
	});
}

/// A DAO endpoint on a local address would make every validator's off-chain worker call
/// its own local services.
#[test]
fn local_endpoints_are_refused_unless_the_chain_allows_them() {
	build_and_execute(|| {
		for local in [
			&b"http://127.0.0.1:9950"[..],
			b"http://localhost:9950",
			b"http://10.0.0.8",
			b"http://169.254.169.254/latest",
			b"http://[::1]:9950",
		] {
			let c = Collective { endpoint: local.to_vec(), ..collective(7) };
			assert_noop!(
				create_with_proof(
					RuntimeOrigin::signed(ALICE),
					b"Local".to_vec(),
					vec![],
					token(),
					c,
					rules()
				),
				Error::<Test>::LocalEndpoint
			);
		}
		for malformed in [&b"http://collective.example/?x=1"[..], b"http://u@collective.example"] {
			let c = Collective { endpoint: malformed.to_vec(), ..collective(7) };
			assert_noop!(
				create_with_proof(
					RuntimeOrigin::signed(ALICE),
					b"Q".to_vec(),
					vec![],
					token(),
					c,
					rules()
				),
				Error::<Test>::InvalidEndpoint
			);
		}
		// A development chain allows them (its genesis sets the flag).
		AllowLocalUrls::<Test>::put(true);
		let c = Collective { endpoint: b"http://127.0.0.1:9950".to_vec(), ..collective(7) };
		assert_ok!(create_with_proof(
			RuntimeOrigin::signed(ALICE),
			b"Local".to_vec(),
			vec![],
			token(),
			c,
			rules()
		));
	});
}

/// A DAO with a zero contribution deposit would let anyone flood its queue (and every
/// validator's off-chain worker) for the price of fees.
#[test]
fn a_dao_cannot_ask_less_than_the_minimum_contribution_deposit() {
	build_and_execute(|| {
		let mut cheap = rules();
		cheap.contribution_deposit = MinContributionDeposit::get() - 1;
		assert_noop!(
			create_with_proof(
				RuntimeOrigin::signed(ALICE),
				b"Free".to_vec(),
				vec![],
				token(),
				collective(7),
				cheap.clone()
			),
			Error::<Test>::ContributionDepositTooLow
		);
		assert_ok!(create(ALICE));
		assert_noop!(
			DataDaos::update_rules(RuntimeOrigin::signed(ALICE), 0, cheap),
			Error::<Test>::ContributionDepositTooLow
		);
	});
}

#[test]
fn try_state_catches_a_collective_key_registered_to_no_dao() {
	new_test_ext().execute_with(|| {
		assert_ok!(create(ALICE));
		assert_ok!(DataDaos::do_try_state());
		AttestationSigners::<Test>::insert([55u8; 32], 0);
		assert!(DataDaos::do_try_state().is_err());
	});
}

#[test]
fn only_a_development_genesis_shortens_the_voting_period() {
	build_and_execute(|| {
		let short = || {
			DataDaos::update_rules(RuntimeOrigin::signed(ALICE), 0, {
				let mut r = rules();
				r.voting_period = 5;
				r
			})
		};
		assert_ok!(create(ALICE));
		assert_noop!(short(), Error::<Test>::VotingPeriodTooShort);
		crate::DevMinVotingPeriod::<Test>::put(5);
		assert_ok!(short());
	});
}

#[test]
fn after_the_hand_over_the_admin_changes_nothing_and_root_still_may() {
	build_and_execute(|| {
		assert_ok!(create(ALICE));
		assert_noop!(DataDaos::hand_over(RuntimeOrigin::signed(BOB), 0), Error::<Test>::NotAdmin);
		assert_ok!(DataDaos::hand_over(RuntimeOrigin::signed(ALICE), 0));
		System::assert_last_event(Event::HandedOver { dao_id: 0 }.into());
		assert!(DataDaos::dao_info(0).unwrap().governed);
		assert_noop!(
			DataDaos::update_rules(RuntimeOrigin::signed(ALICE), 0, rules()),
			Error::<Test>::Governed
		);
		assert_noop!(
			update_with_proof(RuntimeOrigin::signed(ALICE), 0, collective(7)),
			Error::<Test>::Governed
		);
		assert_noop!(DataDaos::retire(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::Governed);
		assert_noop!(DataDaos::hand_over(RuntimeOrigin::root(), 0), Error::<Test>::Governed);
		assert_ok!(DataDaos::retire(RuntimeOrigin::root(), 0));
		// The deposit stays held from the creator.
		assert_eq!(held(ALICE), Daos::<Test>::get(0).unwrap().deposit);
	});
}
