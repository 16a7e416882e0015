import Foundation

@testable import SigilCore
@_spi(Benchmarking) @testable import SigilSigning

/// `pem` and `jwk`: a JWT signing key as the `signingKey` secret holds it, read for each
/// algorithm family that takes that form, then used once to sign a token (the token's buffer is
/// sized from the key: a key whose signature does not fit is a finding).
enum KeyTargets {
    /// PEM: RSA (PKCS#1 or PKCS#8), P-256, P-384 (SEC1 or PKCS#8), Ed25519 (PKCS#8).
    static func pem(_ input: UnsafeBufferPointer<UInt8>) {
        readAndSign(input, algorithms: [.rs256, .es256, .es384, .edDSA])
    }

    /// JWK: RSA (n, e, d, p, q), EC P-256/P-384 (d), OKP Ed25519 (d).
    static func jwk(_ input: UnsafeBufferPointer<UInt8>) {
        readAndSign(input, algorithms: [.rs256, .es256, .es384, .edDSA])
    }

    static func readAndSign(_ input: UnsafeBufferPointer<UInt8>, algorithms: [JWTAlgorithm]) {
        let material = SecretBytes(copying: input, lockingMemory: false)
        let date = Date(timeIntervalSince1970: 1_767_225_600)
        for algorithm in algorithms {
            let key: JWTSigningKey
            do {
                key = try JWTSigningKey(material, algorithm: algorithm, owner: "fuzz")
            } catch {
                continue
            }
            // An RSA key signs with PKCS#1 v1.5 and with PSS.
            for signing in algorithm == .rs256 ? [.rs256, .ps256] : [algorithm] {
                let claims: [(name: String, value: String)] = [("iss", "sigil-fuzz"), ("sub", "alice")]
                do {
                    let token = try JWTSigner(algorithm: signing, key: key, keyID: "k1").compactToken(
                        claims: claims, lifetime: 300, at: date)
                    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
                    if parts.count != 3 || parts.contains(where: \.isEmpty) {
                        FuzzCheck.fail("\(signing.rawValue): the token is not three non-empty parts")
                    }
                } catch {
                    continue
                }
            }
        }
    }
}
