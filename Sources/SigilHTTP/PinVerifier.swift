import NIOCore
import NIOSSL
import SigilModel
import SwiftASN1
import X509

/// Enforces a named credential's `trust.pins` (RFC 7469's `sha256/BASE64` of a SubjectPublicKeyInfo)
/// on every new connection.
///
/// async-http-client builds its own `NIOSSLClientHandler`, so BoringSSL's custom verification
/// callback is out of reach; its connection initializer is not. That runs on the connection itself,
/// after the handshake (in which BoringSSL verified the chain against the roots and the host name)
/// and before the pool hands the connection to any request, so no request byte is written to a
/// server whose key is not pinned, and there is no second connection to race (a separate probe
/// would be a time-of-check/time-of-use gap). A refused connection is closed.
///
/// The pins are compared with the server's certificate and with every certificate of a chain
/// built from it (swift-certificates, RFC 5280) to the named credential's roots (`trust.caBundle`,
/// else the system's), the CA bundle's certificates also serving as intermediates. The server's
/// own intermediates are not exposed by NIOSSL, so an intermediate CA can be pinned only when it is
/// in `trust.caBundle`.
struct PinVerifier: Sendable {
    let pins: Set<String>
    /// The named credential's CA bundle; `nil`: the system's roots.
    let bundle: [Certificate]?

    /// The server's key is not pinned: its certificate's subject and pin (both public), for the message.
    struct Mismatch: Error {
        var subject: String
        var pin: String
    }

    init(pins: [String], caBundlePEM: String?) throws {
        self.pins = Set(pins)
        bundle = try caBundlePEM.map { pem in
            try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)).map { try Certificate(derEncoded: $0.toDERBytes()) }
        }
    }

    /// async-http-client's connection initializer: fails (and closes) the connection unless its
    /// chain holds a pinned key.
    func check(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.nioSSL_peerCertificate().flatMap { leaf in
            let promise = channel.eventLoop.makePromise(of: Void.self)
            promise.completeWithTask { try await verify(leaf) }
            return promise.futureResult
        }.flatMapErrorThrowing { error in
            channel.close(promise: nil)
            throw error
        }
    }

    func verify(_ leaf: NIOSSLCertificate?) async throws {
        guard let leaf, let server = try? Certificate(derEncoded: leaf.toDERBytes()),
            let serverInfo = try? CertificateInfo(server)
        else {
            throw Mismatch(subject: "unreadable", pin: "none")
        }
        if pins.contains(serverInfo.pin) { return }
        var verifier = Verifier(rootCertificates: bundle.map { CertificateStore($0) } ?? .systemTrustRoots) {
            RFC5280Policy()
        }
        if case .validCertificate(let chain) = await verifier.validate(
            leaf: server, intermediates: CertificateStore(bundle ?? []))
        {
            for certificate in chain.dropFirst()
            where (try? CertificateInfo(certificate)).map({ pins.contains($0.pin) }) == true {
                return
            }
        }
        throw Mismatch(subject: serverInfo.subject, pin: serverInfo.pin)
    }
}
