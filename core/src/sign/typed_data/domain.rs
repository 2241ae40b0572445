//! The EIP-712 domain: any subset of its five fields, and the
//! `EIP712Domain` type when a client lists it.

use super::*;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Domain {
    pub(super) name: Option<String>,
    pub(super) version: Option<String>,
    pub(super) chain_id: Option<u64>,
    pub(super) verifying_contract: Option<Address>,
    pub(super) salt: Option<[u8; 32]>,
}

impl Domain {
    pub(super) fn parse(value: &Value, field: &str) -> Result<Self, InvalidField> {
        let path = format!("{field}.domain");
        let Value::Object(fields) = value else {
            return Err(invalid(
                &path,
                "must be an object with any of name, version, chainId, verifyingContract, salt",
            ));
        };
        let names: Vec<_> = DOMAIN_FIELDS.iter().map(|(name, _)| *name).collect();
        only_known(fields, &path, &names)?;
        let mut domain = Domain::default();
        for (name, value) in fields {
            let path = format!("{path}.{name}");
            if value.is_null() {
                return Err(invalid(&path, "is null; leave the field out instead"));
            }
            match name.as_str() {
                "name" => domain.name = Some(string(value, &path)?),
                "version" => domain.version = Some(string(value, &path)?),
                "chainId" => {
                    let (_, magnitude) = integer(value, 256, false, &path)?;
                    let chain_id = u64::try_from(magnitude).map_err(|_| {
                        invalid(&path, "does not fit in 64 bits; give the chain's id (1 for mainnet)")
                    })?;
                    domain.chain_id = Some(chain_id);
                }
                "verifyingContract" => domain.verifying_contract = Some(address(value, &path)?),
                _ => {
                    let salt = hex_bytes(value, Some(32), &path)?;
                    domain.salt = Some(
                        <[u8; 32]>::try_from(salt.as_slice())
                            .map_err(|_| invalid(&path, "must be 32 bytes"))?,
                    );
                }
            }
        }
        Ok(domain)
    }

    pub(super) fn has(&self, field: &str) -> bool {
        match field {
            "name" => self.name.is_some(),
            "version" => self.version.is_some(),
            "chainId" => self.chain_id.is_some(),
            "verifyingContract" => self.verifying_contract.is_some(),
            _ => self.salt.is_some(),
        }
    }

    /// Alloy hashes the domain from its values alone, so an `EIP712Domain`
    /// in `types` must describe exactly them (MetaMask hashes by the list).
    pub(super) fn check_declared_type(
        &self,
        structs: &Structs,
        types_path: &str,
    ) -> Result<(), InvalidField> {
        let Some(declared) = structs.get(DOMAIN_TYPE) else { return Ok(()) };
        let expected: Vec<(&str, &str)> =
            DOMAIN_FIELDS.iter().copied().filter(|(name, _)| self.has(name)).collect();
        let matches = declared.len() == expected.len()
            && declared
                .iter()
                .zip(&expected)
                .all(|(field, (name, kind))| field.name == *name && field.kind.to_string() == *kind);
        if matches {
            return Ok(());
        }
        let listing: Vec<_> = expected.iter().map(|(name, kind)| format!("{kind} {name}")).collect();
        Err(invalid(
            &format!("{types_path}.{DOMAIN_TYPE}"),
            format!(
                "does not match `domain`; it must list exactly its fields, in EIP-712's order: ({})",
                listing.join(", ")
            ),
        ))
    }

    /// The domain as a canonical message of type `EIP712Domain`.
    pub(super) fn to_json(&self) -> Value {
        let mut fields = Map::new();
        if let Some(name) = &self.name {
            fields.insert("name".into(), name.clone().into());
        }
        if let Some(version) = &self.version {
            fields.insert("version".into(), version.clone().into());
        }
        if let Some(chain_id) = self.chain_id {
            fields.insert("chainId".into(), chain_id.to_string().into());
        }
        if let Some(contract) = &self.verifying_contract {
            fields.insert("verifyingContract".into(), contract.to_storage().into());
        }
        if let Some(salt) = &self.salt {
            fields.insert("salt".into(), format!("0x{}", hex::encode(salt)).into());
        }
        Value::Object(fields)
    }

    pub(super) fn to_alloy(&self) -> Eip712Domain {
        Eip712Domain::new(
            self.name.clone().map(Cow::Owned),
            self.version.clone().map(Cow::Owned),
            self.chain_id.map(U256::from),
            self.verifying_contract.map(|address| AlloyAddress::from(*address.as_bytes())),
            self.salt.map(B256::from),
        )
    }
}
