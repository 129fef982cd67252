//! Which user children run as. gitferry running as root (or holding `CAP_SETUID`) would
//! otherwise hand root to every pipeline step; with `GITFERRY_RUN_AS` they get an
//! unprivileged user instead, so that even what Landlock does not cover (another process's
//! `/proc` entries, files outside any rule's reach) is guarded by ordinary permissions.

use nix::unistd::{Uid, User, geteuid};

use super::SandboxError;

/// The user and group a child switches to before `exec`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Who children run as: `Some` when gitferry can switch users and `run_as` is another user
/// than its own; `None` when children keep gitferry's user (it cannot switch, or the operator
/// named gitferry's own user).
pub fn resolve(run_as: &str) -> Result<Option<Identity>, SandboxError> {
    if !can_switch_user() {
        return Ok(None);
    }
    let user = lookup(run_as)?;
    if user.uid == geteuid().as_raw() {
        return Ok(None);
    }
    Ok(Some(user))
}

/// A user by name, or by number (`65534`) for an image without that name in `/etc/passwd`
/// (its group is then the same number, as `nobody`'s is).
fn lookup(run_as: &str) -> Result<Identity, SandboxError> {
    let unknown = || SandboxError::UnknownUser(run_as.to_owned());
    if let Ok(uid) = run_as.parse::<u32>() {
        let known = User::from_uid(Uid::from_raw(uid)).map_err(|_| unknown())?;
        return Ok(Identity {
            name: known
                .as_ref()
                .map_or_else(|| run_as.to_owned(), |user| user.name.clone()),
            uid,
            gid: known.map_or(uid, |user| user.gid.as_raw()),
        });
    }
    let user = User::from_name(run_as)
        .map_err(|_| unknown())?
        .ok_or_else(unknown)?;
    Ok(Identity {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    })
}

/// Root, or `CAP_SETUID` in the effective set (bit 7 of `CapEff` in `/proc/self/status`).
pub fn can_switch_user() -> bool {
    if geteuid().is_root() {
        return true;
    }
    const CAP_SETUID: u32 = 7;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("CapEff:"))?;
            u64::from_str_radix(line.trim_start_matches("CapEff:").trim(), 16).ok()
        })
        .is_some_and(|caps| caps & (1 << CAP_SETUID) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_hands_children_to_the_named_user() {
        if !can_switch_user() {
            return; // what this checks needs root, as CI runs it
        }
        let nobody = resolve("nobody").unwrap().expect("another user");

        assert_eq!(nobody.name, "nobody");
        assert_ne!(nobody.uid, 0);
        assert_eq!(resolve("65534").unwrap().map(|user| user.uid), Some(65534));
    }

    #[test]
    fn naming_gitferrys_own_user_keeps_it() {
        let own = User::from_uid(geteuid()).unwrap().unwrap();

        assert_eq!(resolve(&own.name).unwrap(), None);
    }

    #[test]
    fn an_unknown_user_is_a_clear_error() {
        if !can_switch_user() {
            return;
        }
        let error = resolve("no-such-gitferry-user").unwrap_err();

        assert_eq!(
            error.to_string(),
            "GITFERRY_RUN_AS: there is no user `no-such-gitferry-user` on this host"
        );
    }
}
