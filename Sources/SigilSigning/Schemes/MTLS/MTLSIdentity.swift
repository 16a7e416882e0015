import Crypto
import CryptoExtras
import SigilCore
import SigilModel
import SwiftASN1
import X509

/// Mutual TLS client authentication (RFC 8446 section 4.4.2; certificate-bound access per RFC
/// 8705): a named credential's client certificate chain (public, in the catalog) and its private
/// key (sealed, field `privateKey`), presented by the HTTP executor. Any named credential may add
/// one, whatever its external credential's protocol, so this is a decoration beside the schemes
/// rather than one of them.
enum MTLSIdentity {
    /// The identity a request through `named` presents, or `nil` when it has none.
    static func identity(of route: Routes.Route, _ context: CredentialContext) throws -> ClientIdentity? {
        let named = route.namedCredential
        guard let chain = named.clientCertificate else { return nil }
        let key = try route.clientKey.value(for: context) {
            try context.source.secret(
                SecretTarget(owner: .namedCredential(named.name), field: NamedCredential.clientKeyField),
                stage: .current)
        }
        let trace = context.trace
        guard let key else {
            throw SigilError(
                .missingSecret,
                "named credential \(named.name) has a client certificate but no private key; set it with `sigil secret set \(named.name) \(NamedCredential.clientKeyField)`"
            )
        }
        // The key is named, not fingerprinted: one unpacked from PKCS#12 is DER, not text.
        trace?.step(
            "client identity",
            "certificate chain of named credential \(named.name), private key in its sealed field \(NamedCredential.clientKeyField)"
        )
        return ClientIdentity(certificateChainPEM: chain, privateKeyPEM: key)
    }

    /// Why `named`'s client identity cannot be presented: a private key that does not read (PEM or
    /// DER, RSA, ECDSA or Ed25519) or that does not hold the leaf certificate's public key. Checked
    /// when the key or the certificate is written.
    static func problems(
        of named: NamedCredential, changed: [SecretTarget: SecretBytes], stored: (SecretTarget) throws -> SecretBytes?
    ) throws -> [String] {
        let target = SecretTarget(owner: .namedCredential(named.name), field: NamedCredential.clientKeyField)
        guard let chain = named.clientCertificate, let material = try changed[target] ?? stored(target) else {
            return []
        }
        let owner = "named credential \(named.name), \(NamedCredential.clientKeyField)"
        guard
            let leaf = try? PEMDocument.parseMultiple(pemString: chain).first.map({ try Certificate(pemDocument: $0) })
        else {
            return ["named credential \(named.name), clientIdentity.certificate: is not a PEM certificate chain"]
        }
        let key: Certificate.PrivateKey? = material.withUnsafeBytes { bytes in
            if let text = String(validating: bytes, as: UTF8.self), text.contains("-----BEGIN") {
                return try? Certificate.PrivateKey(pemEncoded: text)
            }
            // PKCS#8, else what BoringSSL writes for a key unpacked from PKCS#12: PKCS#1 or SEC1.
            let der = Array(bytes)
            if let key = try? Certificate.PrivateKey(derBytes: der) { return key }
            if let key = try? _RSA.Signing.PrivateKey(derRepresentation: der) { return Certificate.PrivateKey(key) }
            if let key = try? P256.Signing.PrivateKey(derRepresentation: der) { return Certificate.PrivateKey(key) }
            if let key = try? P384.Signing.PrivateKey(derRepresentation: der) { return Certificate.PrivateKey(key) }
            return nil
        }
        guard let key else { return ["\(owner): is not a private key in PEM or DER (RSA, ECDSA or Ed25519)"] }
        guard key.publicKey == leaf.publicKey else {
            return ["\(owner): does not hold the public key of the client certificate \(leaf.subject)"]
        }
        return []
    }
}
