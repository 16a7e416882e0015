import Crypto
import Foundation
public import SigilCore
import SigilModel

extension Vault {
    /// `fp:` and the first 8 hex digits of HMAC-SHA256(fingerprint key, value), the fingerprint key
    /// being HMAC-SHA256(audit key, "sigil/fingerprint/v1"). Keyed, so an output holding
    /// fingerprints cannot be used to test guesses of a secret offline; stable within a vault, so
    /// two fingerprints show whether two values are the same.
    public func fingerprint(_ value: SecretBytes) -> String {
        guard let auditKey = try? read({ db in try keyring.key(id: activeKeyID(purpose: "audit", db)) }) else {
            return "fp:unavailable"
        }
        let fingerprintKey = auditKey.withUnsafeBytes { key in
            SymmetricKey(
                data: HMAC<SHA256>.authenticationCode(
                    for: Array("sigil/fingerprint/v1".utf8), using: SymmetricKey(data: key)))
        }
        let mac = value.withUnsafeBytes { HMAC<SHA256>.authenticationCode(for: $0, using: fingerprintKey) }
        return "fp:" + mac.prefix(4).map { String(format: "%02x", $0) }.joined()
    }
}
