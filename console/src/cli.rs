//! The scriptable face of `rossignol`: clap definitions only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "rossignol",
    version,
    about = "Custodial accounts: create, read and check sealed secp256k1 accounts per environment",
    after_help = "Environments come from --config, $ROSSIGNOL_CONFIG or ~/.config/rossignol/config.toml; \
                  the built-in `local` environment needs no setup."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Environment to use (default: the configuration's `default`, else `local`)
    #[arg(long, short = 'e', global = true, env = "ROSSIGNOL_ENV", value_name = "NAME")]
    pub env: Option<String>,

    /// Configuration file (default: $ROSSIGNOL_CONFIG, else ~/.config/rossignol/config.toml)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Treat every environment as read-only for this run
    #[arg(long, global = true)]
    pub read_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the environment, its table and account count
    Status,
    /// List the configured environments
    Envs {
        #[arg(long)]
        json: bool,
    },
    /// Create new accounts; prints their addresses
    Create {
        /// How many accounts to create
        #[arg(long, short = 'n', default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        count: u64,
        /// Writes in flight at once
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
        /// JSON Lines: {"address": "0x..."}
        #[arg(long)]
        json: bool,
    },
    /// Show one account; the private key only with --reveal
    Get {
        /// The account's address (0x + 40 hex digits)
        address: String,
        /// Also print the private key (0x hex; base64 for legacy rows)
        #[arg(long)]
        reveal: bool,
        #[arg(long)]
        json: bool,
    },
    /// List accounts, never their keys
    List {
        /// Stop after this many accounts
        #[arg(long)]
        limit: Option<u64>,
        /// Resume after this address (as printed when a limit cut the list)
        #[arg(long, value_name = "ADDRESS")]
        after: Option<String>,
        /// JSON Lines, one record per line
        #[arg(long)]
        json: bool,
    },
    /// Check every record and the table's settings; exit 1 if anything is wrong
    Audit {
        /// Also open every sealed key and check that it derives its address
        #[arg(long)]
        deep: bool,
        /// Parallel scan segments
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
        segments: u32,
        /// A JSON summary: checked, ok, findings, warnings, seals
        #[arg(long)]
        json: bool,
    },
    /// Create the environment's table, or check an existing one
    Init {
        #[arg(long)]
        json: bool,
    },
    /// Sign a message, typed data, a transaction or an authorization; the key is never shown
    #[command(group(clap::ArgGroup::new("what").required(true).args(["message", "transaction", "typed_data", "authorization"])))]
    Sign {
        /// The account's address (0x + 40 hex digits)
        address: String,
        /// A message: 0x-prefixed hex is taken as bytes, anything else as UTF-8 text
        #[arg(long)]
        message: Option<String>,
        /// A transaction as JSON (type 0, 1, 2 or 4: chainId, nonce, to, value,
        /// gas, data, gasPrice or maxFeePerGas + maxPriorityFeePerGas,
        /// accessList, authorizationList); `-` reads stdin
        #[arg(long, value_name = "FILE")]
        transaction: Option<PathBuf>,
        /// EIP-712 typed data as JSON (types, primaryType, domain, message)
        #[arg(long, value_name = "FILE")]
        typed_data: Option<PathBuf>,
        /// An EIP-7702 authorization as JSON (chainId, address of the delegate, nonce)
        #[arg(long, value_name = "FILE")]
        authorization: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Serve the signer's JSON-RPC on this machine, for ethers, viem or foundry
    ///
    /// eth_accounts, eth_chainId, personal_sign, eth_sign, eth_signTypedData_v4 and
    /// eth_signTransaction at /rpc, /rpc/CHAIN_ID and /rpc/CHAIN_ID/ADDRESS, over the
    /// environment (--env), on a loopback address only. Every signature is checked
    /// against the environment's signing policy and recorded in its access trail.
    Serve {
        /// Where to listen, e.g. 127.0.0.1:8545
        #[arg(long, value_name = "ADDRESS:PORT")]
        rpc: std::net::SocketAddr,
    },
    /// Write an account as an encrypted Web3 Secret Storage (V3) keystore file
    Export {
        /// The account's address (0x + 40 hex digits)
        address: String,
        /// Where to write the keystore (mode 0600; never overwrites a file)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Read the passphrase from this file's first line instead of asking twice
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Disable an account: the getter and signer refuse it (410) until it is enabled
    Disable {
        /// The account's address (0x + 40 hex digits)
        address: String,
    },
    /// Enable a disabled account again
    Enable {
        /// The account's address (0x + 40 hex digits)
        address: String,
    },
    /// Re-seal the Node service's plaintext rows in place; resumable, one conditional write per row
    Migrate {
        #[command(flatten)]
        bulk: Bulk,
    },
    /// Re-encrypt every sealed key under another seal; resumable and verified
    Reseal {
        /// The new seal: a KMS key id, ARN or alias (kms:...), or a local key file (local:PATH,
        /// created 0600 if missing; the embedded store takes local keys only)
        #[arg(long, value_name = "kms:KEY | local:FILE")]
        to: String,
        /// Allow moving keys from KMS to a local key file (a weaker kind of seal); in a
        /// production environment the environment's name must also be typed
        #[arg(long)]
        allow_downgrade: bool,
        #[command(flatten)]
        bulk: Bulk,
    },
    /// Sharded: make one provider's lost or replaced shares again from the others; resumable and
    /// verified, and the other providers are not touched
    Repair {
        /// The provider's name, as configured
        provider: String,
        #[command(flatten)]
        bulk: Bulk,
    },
    /// Sharded: give every account new shares of the same key (a new epoch), so shares taken
    /// before are worthless; resumable, and no old share is given up before every new one is read back
    Refresh {
        #[command(flatten)]
        bulk: Bulk,
    },
    /// Sharded: move every account of a single-store environment into this one, each key split
    /// into shares; resumable and verified, and the source is left as it is
    Shard {
        /// The single-store environment the accounts come from
        #[arg(long, value_name = "ENV")]
        from: String,
        #[command(flatten)]
        bulk: Bulk,
    },
}

/// How `migrate`, `reseal`, `repair`, `refresh` and `shard` run.
#[derive(Debug, Args)]
pub struct Bulk {
    /// Report what would be written, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Rows in flight at once
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// A JSON summary instead of text
    #[arg(long)]
    pub json: bool,
}
