import NIOSSL
public import SigilCore
import SigilModel
import SwiftASN1
import Synchronization

/// Where a PKCS#12 client identity comes from: the bundle (`file:` or `stdin`, read as bytes) and
/// its password (any reference; none for a bundle without one). Both are secrets.
struct PKCS12Reference: Sendable, Hashable {
    var bundle: SecretReference
    var password: SecretReference?
}

/// A PKCS#12 bundle unpacked at apply (BoringSSL's `PKCS12_parse`, through NIOSSL): its chain
/// becomes the named credential's public `clientCertificate` and its key the sealed `privateKey`
/// secret (DER), so neither the bundle nor its password is stored, and everything downstream
/// (sealing, export, expiry display, the TLS handshake) treats it like a PEM identity.
public enum PKCS12Identity {
    /// Opens a bundle: its certificate chain as PEM and its private key as DER.
    public typealias Unpacker =
        @Sendable (SecretBytes, SecretBytes?) throws(SigilError) -> (chainPEM: String, key: SecretBytes)

    /// Set by the `sigil` executable: opens bundles in a child process. NIOSSL stops the process
    /// (`fatalError`) when BoringSSL opens a bundle whose key matches none of its certificates,
    /// which no check of the bundle's visible layers can rule out (the certificates are usually
    /// encrypted), so the executable lets a child take that risk and reports its failure.
    private static let isolated = Mutex<Unpacker?>(nil)

    /// Makes ``unpack(_:password:)`` open bundles with `unpacker` from now on.
    public static func isolate(with unpacker: @escaping Unpacker) {
        isolated.withLock { $0 = unpacker }
    }

    static func unpack(_ bundle: SecretBytes, password: SecretBytes?) throws(SigilError) -> (
        chainPEM: String, key: SecretBytes
    ) {
        if let unpacker = isolated.withLock({ $0 }) { return try unpacker(bundle, password) }
        return try unpackInProcess(bundle, password: password)
    }

    /// Opens a bundle in this process (what the child process of ``isolate(with:)`` runs).
    public static func unpackInProcess(_ bundle: SecretBytes, password: SecretBytes?) throws(SigilError) -> (
        chainPEM: String, key: SecretBytes
    ) {
        let parsed: NIOSSLPKCS12Bundle
        do {
            // BoringSSL reads the bundle from an array; this copy is wiped as soon as it is parsed.
            var bytes = bundle.withUnsafeBytes { Array($0) }
            defer { bytes.wipe() }
            try Layout(der: bytes)?.check()
            if let password {
                parsed = try password.withUnsafeBytes { passphrase in
                    try NIOSSLPKCS12Bundle(buffer: bytes, passphrase: passphrase)
                }
            } else {
                parsed = try NIOSSLPKCS12Bundle(buffer: bytes, passphrase: [UInt8]?.none)
            }
        } catch let error as SigilError {
            throw error
        } catch {
            // BoringSSL's error stack names reasons, never the bytes or the password.
            if "\(error)".contains("INCORRECT_PASSWORD") {
                throw SigilError(.invalidConfiguration, "the password does not open the PKCS#12 bundle")
            }
            throw SigilError(
                .invalidConfiguration,
                "is not a PKCS#12 bundle that can be read (corrupt, or an unsupported encryption)")
        }
        let chain: String
        do {
            chain = try CertificateInfo.pem(derCertificates: parsed.certificateChain.map { try $0.toDERBytes() })
        } catch let error as CertificateInfoError {
            throw SigilError(.invalidConfiguration, "the PKCS#12 bundle's certificate chain \(error.problem)")
        } catch {
            throw SigilError(.invalidConfiguration, "the PKCS#12 bundle's certificate chain cannot be read")
        }
        do {
            var der = try parsed.privateKey.derBytes
            defer { der.wipe() }
            return (chain, SecretBytes(copying: der))
        } catch {
            throw SigilError(.invalidConfiguration, "the PKCS#12 bundle's private key cannot be read")
        }
    }

    /// The unencrypted layers of a PFX (RFC 7292 sections 4 and 4.2): which bags can be seen
    /// without the password, and whether some are encrypted.
    ///
    /// NIOSSL stops the process (`fatalError`) when BoringSSL opens a bundle without a private key
    /// or without a certificate, and a crash report could show memory. So a bundle whose visible
    /// layers show no key bag, or no certificate bag and nothing encrypted that could hold one, is
    /// refused first. A key inside an encrypted part is not looked for: openssl, keytool and
    /// Windows write the key as a visible (shrouded, i.e. itself encrypted) key bag and the
    /// certificates encrypted. `nil` when the bundle is not DER: BoringSSL then reports it.
    struct Layout {
        var keyBags = 0
        var certificateBags = 0
        var encryptedParts = 0

        static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]
        static let keyBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 1]
        static let shroudedKeyBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 2]
        static let certificateBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 3]

        init?(der: [UInt8]) {
            do {
                // PFX ::= SEQUENCE { version, authSafe ContentInfo, macData OPTIONAL }
                let authenticatedSafe = try DER.sequence(try DER.parse(der), identifier: .sequence) { nodes in
                    _ = try Int(derEncoded: &nodes)
                    guard let authSafe = nodes.next(), let content = try Self.dataContent(authSafe) else {
                        throw ASN1Error.invalidASN1Object(reason: "authSafe is not data")
                    }
                    while nodes.next() != nil {}
                    return content
                }
                // AuthenticatedSafe ::= SEQUENCE OF ContentInfo; SafeContents ::= SEQUENCE OF SafeBag
                for part in try Self.elements(try DER.parse(authenticatedSafe)) {
                    guard let contents = try Self.dataContent(part) else {
                        encryptedParts += 1
                        continue
                    }
                    for bag in try Self.elements(try DER.parse(contents)) {
                        let bagID = try DER.sequence(bag, identifier: .sequence) { nodes in
                            let bagID = try ASN1ObjectIdentifier(derEncoded: &nodes)
                            while nodes.next() != nil {}
                            return bagID
                        }
                        if bagID == Self.keyBag || bagID == Self.shroudedKeyBag { keyBags += 1 }
                        if bagID == Self.certificateBag { certificateBags += 1 }
                    }
                }
            } catch {
                return nil
            }
        }

        /// The elements of a SEQUENCE OF.
        static func elements(_ node: ASN1Node) throws -> ASN1NodeCollection {
            guard node.identifier == .sequence, case .constructed(let nodes) = node.content else {
                throw ASN1Error.unexpectedFieldType(node.identifier)
            }
            return nodes
        }

        /// The octets of a ContentInfo of type data; `nil` for other types (encrypted data).
        static func dataContent(_ node: ASN1Node) throws -> ArraySlice<UInt8>? {
            try DER.sequence(node, identifier: .sequence) { nodes in
                let type = try ASN1ObjectIdentifier(derEncoded: &nodes)
                guard type == Self.data else {
                    while nodes.next() != nil {}
                    return nil
                }
                return try DER.explicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) { node in
                    try ASN1OctetString(derEncoded: node).bytes
                }
            }
        }

        func check() throws(SigilError) {
            if keyBags == 0 {
                throw SigilError(
                    .invalidConfiguration,
                    "the PKCS#12 bundle holds no private key (a key bag outside its encrypted parts, as openssl, keytool and Windows write it)"
                )
            }
            if certificateBags == 0 && encryptedParts == 0 {
                throw SigilError(.invalidConfiguration, "the PKCS#12 bundle holds no certificate")
            }
        }
    }
}
