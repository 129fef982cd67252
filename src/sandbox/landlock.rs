//! The Landlock side of the sandbox: which ABI the kernel offers, and the ruleset for one run.
//!
//! Everything that allocates or can fail in an interesting way (opening the allowed paths,
//! creating the ruleset, adding its rules) happens in gitferry before the fork; the child only
//! calls [`enforce`], which is two system calls (`prctl(PR_SET_NO_NEW_PRIVS)` and
//! `landlock_restrict_self`) between `fork` and `exec`, where only async-signal-safe work is
//! allowed.

use std::io;
use std::path::PathBuf;

use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, RulesetAttr, RulesetCreated,
    RulesetCreatedAttr, RulesetStatus, Scope, path_beneath_rules,
};

use super::policy::Policy;

/// The newest ABI whose rights gitferry asks for. Newer kernels are used at this level: new
/// rights are added here once they are understood (the crate's advice, see `ABI`).
const NEWEST_VETTED: ABI = ABI::V7;

/// From the newest vetted ABI down: the first the kernel accepts is the one in force.
const ABIS: &[(ABI, u8)] = &[
    (ABI::V7, 7),
    (ABI::V6, 6),
    (ABI::V5, 5),
    (ABI::V4, 4),
    (ABI::V3, 3),
    (ABI::V2, 2),
    (ABI::V1, 1),
];

/// The Landlock ABI this kernel enforces fully, as (the crate's name, its number); `None` when
/// Landlock is not built in or not enabled (another OS, an old kernel, `lsm=` without it).
pub fn probe() -> Option<(ABI, u8)> {
    ABIS.iter()
        .copied()
        .find(|&(abi, _)| {
            landlock::Ruleset::default()
                .set_compatibility(CompatLevel::HardRequirement)
                .handle_access(AccessFs::from_all(abi))
                .and_then(|ruleset| ruleset.create())
                .is_ok()
        })
        .map(|(abi, number)| {
            debug_assert!(number <= NEWEST_VETTED as u8);
            (abi, number)
        })
}

/// The rules for one run: the policy's paths, plus `own` (the run's folder) read-write.
///
/// With ABI 6 and later, signals to and abstract unix sockets of processes outside the
/// sandbox are refused too (`Scope`). Every right of the ABI is handled, so anything not
/// allowed here is denied: reading `/proc`, `/home`, `/tmp`, `/var`, gitferry's data.
pub fn ruleset(abi: ABI, policy: &Policy, own: &[PathBuf]) -> Result<RulesetCreated, io::Error> {
    let read = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    let device = AccessFs::from_read(abi) | AccessFs::from_write(abi);
    let mut ruleset = landlock::Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(all)
        .map_err(io::Error::other)?;
    if abi as u8 >= ABI::V6 as u8 {
        ruleset = ruleset
            .scope(Scope::from_all(abi))
            .map_err(io::Error::other)?;
    }
    ruleset
        .create()
        .and_then(|created| created.add_rules(path_beneath_rules(&policy.read, read)))
        .and_then(|created| created.add_rules(path_beneath_rules(&policy.devices, device)))
        .and_then(|created| created.add_rules(path_beneath_rules(&policy.write, all)))
        .and_then(|created| created.add_rules(path_beneath_rules(own, all)))
        .map_err(io::Error::other)
}

/// In the child, between `fork` and `exec`: sets `no_new_privs` and restricts the child to
/// `ruleset`. Refuses (the `exec` then does not happen) unless both took full effect.
///
/// Async-signal-safe in practice: no allocation on the way that succeeds, and the errors
/// built on the way that fails are plain OS error numbers.
pub fn enforce(ruleset: RulesetCreated) -> io::Result<()> {
    match ruleset.restrict_self() {
        Ok(status) if status.ruleset == RulesetStatus::FullyEnforced && status.no_new_privs => {
            Ok(())
        }
        Ok(_) => Err(io::Error::from_raw_os_error(nix::libc::EPERM)),
        Err(_) => Err(io::Error::last_os_error()),
    }
}
