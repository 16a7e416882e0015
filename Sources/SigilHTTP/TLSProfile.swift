import Crypto
import Foundation
import NIOSSL
import SigilCore
import SigilModel
import SigilSigning

/// What a TLS connection of a named credential presents and trusts: its client identity (by a
/// digest of the certificate chain and key, never the key), its CA bundle and its SPKI pins.
/// Requests with the same profile share one pooled client.
struct TLSProfile: Hashable {
    var identity: String?
    var caBundle: String?
    var pins: [String]

    init(_ request: DecoratedRequest) {
        identity = request.clientIdentity.map { identity in
            var hash = SHA256()
            hash.update(data: Array(identity.certificateChainPEM.utf8))
            identity.privateKeyPEM.withUnsafeBytes { hash.update(bufferPointer: $0) }
            return Hex.encode(hash.finalize())
        }
        caBundle = request.trust?.caBundle
        pins = request.trust?.pins ?? []
    }

    /// TLS 1.2 at least; the client certificate chain and key when there is an identity; the CA
    /// bundle instead of the system's roots when there is one.
    func configuration(_ request: DecoratedRequest) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        let owner = "named credential \(request.namedCredential)"
        if let identity = request.clientIdentity {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificateChainPEM.utf8)).map
                { .certificate($0) }
            } catch {
                throw SigilError(.invalidSecret, "\(owner): the client certificate chain is not valid PEM")
            }
            do {
                // BoringSSL needs the key as bytes; this copy lives only while the key is loaded.
                // PEM as configured, or DER as unpacked from a PKCS#12 bundle.
                let key = try identity.privateKeyPEM.withUnsafeBytes { bytes in
                    try NIOSSLPrivateKey(
                        bytes: Array(bytes), format: bytes.starts(with: "-----BEGIN".utf8) ? .pem : .der)
                }
                tls.privateKey = .privateKey(key)
            } catch {
                throw SigilError(
                    .invalidSecret, "\(owner): the client certificate's private key is not a PEM or DER private key")
            }
        }
        if let bundle = caBundle {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(bundle.utf8)))
            } catch {
                throw SigilError(.invalidSecret, "\(owner): trust.caBundle is not valid PEM")
            }
        }
        return tls
    }

    /// What enforces ``pins`` on each new connection; `nil` without pins.
    func pinVerifier(_ request: DecoratedRequest) throws -> PinVerifier? {
        guard !pins.isEmpty else { return nil }
        do {
            return try PinVerifier(pins: pins, caBundlePEM: caBundle)
        } catch {
            throw SigilError(
                .invalidSecret, "named credential \(request.namedCredential): trust.caBundle is not valid PEM")
        }
    }

    static func describe(_ error: NIOSSLError) -> String {
        switch error {
        case .handshakeFailed(let reason): TLSFailure.explain("\(reason)")
        default: "\(error)"
        }
    }

    static func describe(_ error: BoringSSLError) -> String {
        switch error {
        case .sslError(let stack), .unknownError(let stack): TLSFailure.explain("\(stack)")
        default: "\(error)"
        }
    }
}
