//! EIP-7702 authorizations: the tuple `[chain_id, address, nonce]` an
//! account signs to delegate its code to a contract, signed as
//! `keccak(0x05 ‖ rlp([chain_id, address, nonce]))` (alloy-eips computes
//! it), and the signed tuples a type 4 transaction carries.

use ruint::aliases::U256;
use serde_json::{Value, json};

use super::InvalidField;
use super::json::{address, field, hex_quantity, invalid, object, only_known, quantity, quantity_u64};
use crate::account::Address;
use crate::secret::RecoverableSignature;

/// What an account authorizes: that its code be `delegate`'s on
/// `chain_id` (0: every chain) while its nonce is `nonce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorization {
    pub chain_id: u64,
    pub delegate: Address,
    pub nonce: u64,
}

/// An authorization with its authority's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAuthorization {
    pub authorization: Authorization,
    pub y_parity: u8,
    pub r: U256,
    pub s: U256,
}

impl Authorization {
    /// Reads `{chainId, address, nonce}` (`address` is the delegate).
    /// Chain id 0 is read here and judged by the signing policy.
    pub fn from_json(value: &Value, path: &str) -> Result<Self, InvalidField> {
        let fields = object(value, path)?;
        only_known(fields, &format!("{path}."), &["chainId", "address", "nonce"])?;
        Self::read(fields, path)
    }

    fn read(fields: &serde_json::Map<String, Value>, path: &str) -> Result<Self, InvalidField> {
        let required = |name: &str, what: &str| {
            field(fields, name)
                .ok_or_else(|| invalid(&format!("{path}.{name}"), format!("is missing; {what}")))
        };
        let chain_id = quantity_u64(
            required("chainId", "give the chain the delegation is for (0 means every chain)")?,
            &format!("{path}.chainId"),
        )?;
        let delegate = address(
            required("address", "give the contract the account delegates to")?,
            &format!("{path}.address"),
        )?;
        let nonce = quantity_u64(
            required("nonce", "give the account's nonce when the authorization is used")?,
            &format!("{path}.nonce"),
        )?;
        Ok(Authorization { chain_id, delegate, nonce })
    }

    fn to_alloy(self) -> alloy_eips::eip7702::Authorization {
        alloy_eips::eip7702::Authorization {
            chain_id: U256::from(self.chain_id),
            address: self.delegate.to_alloy(),
            nonce: self.nonce,
        }
    }

    /// The keccak-256 that is signed.
    pub fn signing_hash(&self) -> [u8; 32] {
        self.to_alloy().signature_hash().0
    }

    pub fn signed(self, signature: &RecoverableSignature) -> SignedAuthorization {
        SignedAuthorization {
            authorization: self,
            y_parity: signature.recovery_id,
            r: U256::from_be_bytes(signature.r),
            s: U256::from_be_bytes(signature.s),
        }
    }
}

impl SignedAuthorization {
    /// A type 4 transaction's `authorizationList`: signed tuples
    /// `{chainId, address, nonce, yParity, r, s}` as ethers and viem send
    /// them (`v` is accepted for `yParity` as 0/1 or 27/28).
    pub fn list_from_json(value: &Value) -> Result<Vec<Self>, InvalidField> {
        let entries =
            value.as_array().ok_or_else(|| invalid("transaction.authorizationList", "must be an array"))?;
        entries
            .iter()
            .enumerate()
            .map(|(i, entry)| Self::from_json(entry, &format!("transaction.authorizationList[{i}]")))
            .collect()
    }

    fn from_json(value: &Value, path: &str) -> Result<Self, InvalidField> {
        let fields = object(value, path)?;
        only_known(fields, &format!("{path}."), &["chainId", "address", "nonce", "yParity", "v", "r", "s"])?;
        let authorization = Authorization::read(fields, path)?;
        let y_parity = match (field(fields, "yParity"), field(fields, "v")) {
            (Some(v), _) | (None, Some(v)) => match quantity_u64(v, &format!("{path}.yParity"))? {
                0 | 27 => 0,
                1 | 28 => 1,
                _ => return Err(invalid(&format!("{path}.yParity"), "must be 0 or 1")),
            },
            (None, None) => {
                return Err(invalid(
                    &format!("{path}.yParity"),
                    "is missing; a signed authorization has yParity, r and s",
                ));
            }
        };
        let scalar = |name: &str| match field(fields, name) {
            Some(v) => quantity(v, &format!("{path}.{name}")),
            None => Err(invalid(
                &format!("{path}.{name}"),
                "is missing; a signed authorization has yParity, r and s",
            )),
        };
        Ok(SignedAuthorization { authorization, y_parity, r: scalar("r")?, s: scalar("s")? })
    }

    pub(crate) fn to_alloy(&self) -> alloy_eips::eip7702::SignedAuthorization {
        alloy_eips::eip7702::SignedAuthorization::new_unchecked(
            self.authorization.to_alloy(),
            self.y_parity,
            self.r,
            self.s,
        )
    }

    /// `{chainId, address, nonce, yParity, r, s}` in JSON-RPC's hex
    /// quantities, as a type 4 transaction's `authorizationList` takes it.
    pub fn to_json(&self) -> Value {
        json!({
            "chainId": hex_quantity(U256::from(self.authorization.chain_id)),
            "address": self.authorization.delegate.to_string(),
            "nonce": hex_quantity(U256::from(self.authorization.nonce)),
            "yParity": hex_quantity(U256::from(self.y_parity)),
            "r": hex_quantity(self.r),
            "s": hex_quantity(self.s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrivateKey;
    use crate::account::keccak256;

    #[test]
    fn the_signing_hash_is_keccak_of_0x05_and_the_rlp_tuple() {
        let auth = Authorization {
            chain_id: 1,
            delegate: Address::parse("0x3535353535353535353535353535353535353535")
                .unwrap_or_else(|e| panic!("{e}")),
            nonce: 7,
        };
        // rlp([1, 0x35…35, 7]) = d7 01 94 <20 bytes> 07
        let mut preimage = vec![0x05, 0xd7, 0x01, 0x94];
        preimage.extend([0x35; 20]);
        preimage.push(0x07);
        assert_eq!(auth.signing_hash(), keccak256(&preimage));
    }

    #[test]
    fn a_signed_authorization_reads_back_from_its_json() {
        let key = PrivateKey::from_bytes(&[0x46; 32]).unwrap_or_else(|_| unreachable!());
        let auth = Authorization { chain_id: 0, delegate: Address::from_bytes([0x11; 20]), nonce: 3 };
        let signature = key.sign_prehash(&auth.signing_hash()).unwrap_or_else(|e| panic!("{e}"));
        let signed = auth.signed(&signature);
        let list =
            SignedAuthorization::list_from_json(&json!([signed.to_json()])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list, std::slice::from_ref(&signed));
        // The authority recovers from the hash alloy computes and the signature as carried.
        use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
        let alloy = signed.to_alloy();
        let rs = Signature::from_scalars(alloy.r().to_be_bytes::<32>(), alloy.s().to_be_bytes::<32>())
            .unwrap_or_else(|e| panic!("{e}"));
        let id = RecoveryId::from_byte(alloy.y_parity()).unwrap_or_else(|| panic!("y parity"));
        let recovered = VerifyingKey::recover_from_prehash(alloy.signature_hash().as_slice(), &rs, id)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Address::from_public_key(&recovered.into()), key.address());
    }

    #[test]
    fn every_refusal_names_its_field() {
        let cases = [
            (
                json!({"chainId": 1, "address": "0x3535353535353535353535353535353535353535"}),
                "authorization.nonce",
            ),
            (json!({"chainId": 1, "nonce": 0}), "authorization.address"),
            (
                json!({"address": "0x3535353535353535353535353535353535353535", "nonce": 0}),
                "authorization.chainId",
            ),
            (
                json!({"chainId": -1, "address": "0x3535353535353535353535353535353535353535", "nonce": 0}),
                "authorization.chainId",
            ),
            (json!({"chainId": 1, "address": "0x35", "nonce": 0}), "authorization.address"),
            (
                json!({"chainId": 1, "address": "0x3535353535353535353535353535353535353535", "nonce": 0, "to": 1}),
                "authorization.to",
            ),
        ];
        for (body, path) in cases {
            let err = Authorization::from_json(&body, "authorization").expect_err(&body.to_string());
            assert_eq!(err.field, path, "{body}: {err}");
        }
    }
}
