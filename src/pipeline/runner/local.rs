//! The local runner: steps as child processes on the gitferry host.
