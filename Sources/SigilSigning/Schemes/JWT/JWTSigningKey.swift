import Crypto
import CryptoExtras
import Foundation
import SigilCore
import X509

/// A JWT signing key, parsed from PEM (PKCS#1, PKCS#8 or SEC1), from a JWK, or (HMAC) from raw
/// bytes, and checked against the algorithm: RSA keys of at least 2048 bits, HMAC keys at least as
/// long as the hash (RFC 7518 section 3.2), the curve that the algorithm names.
enum JWTSigningKey: Sendable {
    case hmac(SymmetricKey)
    case rsa(_RSA.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    init(_ material: SecretBytes, algorithm: JWTAlgorithm, owner: String) throws {
        func fail(_ problem: String) -> SigilError {
            SigilError(
                .invalidSecret,
                owner.isEmpty ? "the JWT signing key \(problem)" : "\(owner): the JWT signing key \(problem)")
        }
        if let minimum = algorithm.minimumHMACKeyBytes {
            guard material.count >= minimum else {
                throw fail(
                    "is \(material.count) bytes; \(algorithm.rawValue) needs at least \(minimum) (RFC 7518 section 3.2)"
                )
            }
            self = .hmac(material.withUnsafeBytes { SymmetricKey(data: $0) })
            return
        }
        let text = material.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") {
            self = try Self.fromJWK(trimmed, algorithm: algorithm, fail: fail)
        } else if trimmed.hasPrefix("-----BEGIN") {
            self = try Self.fromPEM(trimmed, algorithm: algorithm, fail: fail)
        } else {
            throw fail("is neither PEM nor a JWK")
        }
    }

    private static func fromPEM(_ pem: String, algorithm: JWTAlgorithm, fail: (String) -> SigilError) throws
        -> JWTSigningKey
    {
        switch algorithm {
        case .rs256, .rs384, .rs512, .ps256:
            let key: _RSA.Signing.PrivateKey
            do {
                key = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem)
            } catch {
                throw fail("is not an RSA private key in PEM (PKCS#1 or PKCS#8)")
            }
            guard key.keySizeInBits >= 2048 else {
                throw fail("is a \(key.keySizeInBits)-bit RSA key; at least 2048 bits are required")
            }
            return .rsa(key)
        case .es256:
            do { return .p256(try P256.Signing.PrivateKey(pemRepresentation: pem)) } catch {
                throw fail("is not a P-256 private key in PEM (SEC1 or PKCS#8)")
            }
        case .es384:
            do { return .p384(try P384.Signing.PrivateKey(pemRepresentation: pem)) } catch {
                throw fail("is not a P-384 private key in PEM (SEC1 or PKCS#8)")
            }
        case .edDSA:
            do { return .ed25519(try Curve25519.Signing.PrivateKey(pemRepresentation: pem)) } catch {
                throw fail("is not an Ed25519 private key in PEM (PKCS#8)")
            }
        case .hs256, .hs384, .hs512:
            throw fail("is PEM, but \(algorithm.rawValue) takes raw key bytes")
        }
    }

    /// RFC 7517/7518 private JWKs: `RSA` (n, e, d, p, q), `EC` (crv, d), `OKP` Ed25519 (d).
    private static func fromJWK(_ json: String, algorithm: JWTAlgorithm, fail: (String) -> SigilError) throws
        -> JWTSigningKey
    {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let kty = object["kty"] as? String
        else {
            throw fail("is not a JWK (a JSON object with kty)")
        }
        func member(_ name: String) throws -> Data {
            guard let text = object[name] as? String, let data = Base64URL.decode(text) else {
                throw fail("(JWK) has no valid \(name)")
            }
            return data
        }
        switch (kty, algorithm) {
        case ("RSA", .rs256), ("RSA", .rs384), ("RSA", .rs512), ("RSA", .ps256):
            let key: _RSA.Signing.PrivateKey
            do {
                key = try _RSA.Signing.PrivateKey(
                    n: member("n"), e: member("e"), d: member("d"), p: member("p"), q: member("q"))
            } catch let error as SigilError {
                throw error
            } catch {
                throw fail("(JWK) is not a consistent RSA private key")
            }
            guard key.keySizeInBits >= 2048 else {
                throw fail("is a \(key.keySizeInBits)-bit RSA key; at least 2048 bits are required")
            }
            return .rsa(key)
        case ("EC", .es256):
            guard object["crv"] as? String == "P-256" else { throw fail("(JWK) is not on curve P-256") }
            do { return .p256(try P256.Signing.PrivateKey(rawRepresentation: member("d"))) } catch {
                throw fail("(JWK) is not a P-256 private key")
            }
        case ("EC", .es384):
            guard object["crv"] as? String == "P-384" else { throw fail("(JWK) is not on curve P-384") }
            do { return .p384(try P384.Signing.PrivateKey(rawRepresentation: member("d"))) } catch {
                throw fail("(JWK) is not a P-384 private key")
            }
        case ("OKP", .edDSA):
            guard object["crv"] as? String == "Ed25519" else { throw fail("(JWK) is not an Ed25519 key") }
            do { return .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: member("d"))) } catch {
                throw fail("(JWK) is not an Ed25519 private key")
            }
        default:
            throw fail("(JWK, kty \(kty)) does not fit algorithm \(algorithm.rawValue)")
        }
    }

    /// The JWS signature of `input` (RFC 7515 section 5.1; ECDSA as R || S, RFC 7518 section 3.4).
    func signature(for input: UnsafeRawBufferPointer, algorithm: JWTAlgorithm) throws -> Signature {
        switch (self, algorithm) {
        case (.hmac(let key), .hs256): return .sha256(HMAC<SHA256>.authenticationCode(for: input, using: key))
        case (.hmac(let key), .hs384): return .sha384(HMAC<SHA384>.authenticationCode(for: input, using: key))
        case (.hmac(let key), .hs512): return .sha512(HMAC<SHA512>.authenticationCode(for: input, using: key))
        case (.rsa(let key), .rs256):
            return .data(
                try key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .rs384):
            return .data(
                try key.signature(for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .rs512):
            return .data(
                try key.signature(for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        case (.rsa(let key), .ps256):
            return .data(try key.signature(for: SHA256.hash(data: input), padding: .PSS).rawRepresentation)
        case (.p256(let key), .es256): return .data(try key.signature(for: input).rawRepresentation)
        case (.p384(let key), .es384): return .data(try key.signature(for: input).rawRepresentation)
        case (.ed25519(let key), .edDSA): return .data(try key.signature(for: input))
        default: throw SigilError(.invalidSecret, "the JWT key does not fit algorithm \(algorithm.rawValue)")
        }
    }

    /// A signature's bytes: an HMAC kept as swift-crypto returns it (no allocation), or a signer's
    /// `Data`.
    enum Signature {
        case sha256(HashedAuthenticationCode<SHA256>)
        case sha384(HashedAuthenticationCode<SHA384>)
        case sha512(HashedAuthenticationCode<SHA512>)
        case data(Data)

        func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            switch self {
            case .sha256(let code): code.withUnsafeBytes(body)
            case .sha384(let code): code.withUnsafeBytes(body)
            case .sha512(let code): code.withUnsafeBytes(body)
            case .data(let data): data.withUnsafeBytes(body)
            }
        }
    }

    /// The public key a certificate for this key holds; `nil` for HMAC.
    var certificatePublicKey: Certificate.PublicKey? {
        switch self {
        case .hmac: nil
        case .rsa(let key): Certificate.PublicKey(key.publicKey)
        case .p256(let key): Certificate.PublicKey(key.publicKey)
        case .p384(let key): Certificate.PublicKey(key.publicKey)
        case .ed25519(let key): Certificate.PublicKey(key.publicKey)
        }
    }

    /// The length of a signature, for sizing the token's buffer.
    var signatureByteCount: Int {
        switch self {
        case .hmac: 64  // at most SHA-512's
        case .rsa(let key): (key.keySizeInBits + 7) / 8  // 2050 bits take 257 bytes
        case .p256: 64
        case .p384: 96
        case .ed25519: 64
        }
    }
}
