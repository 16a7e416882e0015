import Crypto
public import Foundation
import SwiftASN1
public import X509

/// What a certificate says about itself that an operator needs: who it names, who issued it, when
/// it is valid, and its SPKI pin. Certificates are public, so every field may be shown.
public struct CertificateInfo: Sendable, Hashable {
    /// The subject and issuer as RFC 4514 strings (`CN=client,O=Example`).
    public var subject: String
    public var issuer: String
    public var notBefore: Date
    public var notAfter: Date
    /// `sha256/BASE64` of the DER SubjectPublicKeyInfo (RFC 7469 section 2.4; curl's
    /// `--pinnedpubkey`): what `trust.pins` lists.
    public var pin: String

    /// Parses one DER certificate.
    public init(derEncoded bytes: [UInt8]) throws(CertificateInfoError) {
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: bytes)
        } catch {
            throw CertificateInfoError("is not a valid X.509 certificate")
        }
        try self.init(certificate)
    }

    /// Reads a parsed certificate.
    public init(_ certificate: Certificate) throws(CertificateInfoError) {
        subject = certificate.subject.description
        issuer = certificate.issuer.description
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
        pin = try Self.pin(of: certificate.publicKey)
    }

    /// Every certificate of a PEM chain, leaf first. Fails unless there is at least one and every
    /// `CERTIFICATE` block parses.
    public static func chain(pem: String) throws(CertificateInfoError) -> [CertificateInfo] {
        var infos: [CertificateInfo] = []
        for certificate in try certificates(pem: pem) { infos.append(try CertificateInfo(certificate)) }
        return infos
    }

    /// The DER certificates `der` as one PEM chain, in order.
    public static func pem(derCertificates der: [[UInt8]]) throws(CertificateInfoError) -> String {
        do {
            return try der.map { try Certificate(derEncoded: $0).serializeAsPEM().pemString + "\n" }.joined()
        } catch {
            throw CertificateInfoError("holds a certificate that is not valid X.509")
        }
    }

    /// The SPKI pin of the certificate `der` (DER).
    public static func pin(ofCertificate der: [UInt8]) throws(CertificateInfoError) -> String {
        try CertificateInfo(derEncoded: der).pin
    }

    static func certificates(pem: String) throws(CertificateInfoError) -> [Certificate] {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem).filter { $0.discriminator == "CERTIFICATE" }
        } catch {
            throw CertificateInfoError("is not a PEM certificate chain")
        }
        guard !documents.isEmpty else { throw CertificateInfoError("holds no PEM certificate") }
        do {
            return try documents.map { try Certificate(pemDocument: $0) }
        } catch {
            throw CertificateInfoError("holds a certificate that is not valid X.509")
        }
    }

    static func pin(of key: Certificate.PublicKey) throws(CertificateInfoError) -> String {
        var serializer = DER.Serializer()
        do {
            try serializer.serialize(key)
        } catch {
            throw CertificateInfoError("has a public key that cannot be encoded")
        }
        return "sha256/" + Data(SHA256.hash(data: serializer.serializedBytes)).base64EncodedString()
    }

    /// Whole days from `now` to ``notAfter``, rounded down; negative once expired.
    public func daysLeft(at now: Date) -> Int {
        Int((notAfter.timeIntervalSince(now) / 86_400).rounded(.down))
    }

    /// Where the certificate stands at `now`, warning `warningDays` before it expires.
    public func status(at now: Date, warningDays: Int) -> Status {
        if now > notAfter { return .expired }
        if now < notBefore { return .notYetValid }
        return daysLeft(at: now) < warningDays ? .expiresSoon : .valid
    }

    public enum Status: String, Sendable, Encodable {
        case valid
        case expiresSoon = "expires-soon"
        case expired
        case notYetValid = "not-yet-valid"
    }

    /// One line for people: `CN=client (issuer CN=CA), valid until 2026-05-01T00:00:00Z`, and
    /// what needs attention.
    public func summary(at now: Date, warningDays: Int) -> String {
        let until = notAfter.formatted(.iso8601)
        return switch status(at: now, warningDays: warningDays) {
        case .valid: "\(subject) (issuer \(issuer)), valid until \(until), \(daysLeft(at: now)) days left"
        case .expiresSoon: "\(subject) (issuer \(issuer)) expires soon: \(until), \(daysLeft(at: now)) days left"
        case .expired: "\(subject) (issuer \(issuer)) expired on \(until)"
        case .notYetValid: "\(subject) (issuer \(issuer)) is not valid before \(notBefore.formatted(.iso8601))"
        }
    }
}

/// Why a certificate or chain could not be read; the caller adds the item and field.
public struct CertificateInfoError: Error, Sendable, CustomStringConvertible {
    public let problem: String

    init(_ problem: String) {
        self.problem = problem
    }

    public var description: String { problem }
}
