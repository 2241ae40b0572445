//! Each key split k-of-n with Feldman VSS, one share per provider.

#[derive(Debug)]
pub struct ShardedCustody;
