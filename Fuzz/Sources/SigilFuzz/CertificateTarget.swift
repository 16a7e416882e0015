import Foundation
import SigilCore
import SigilModel

@testable import SigilSigning

/// `certificate`: a client certificate chain or CA bundle as the configuration gives it (PEM), or
/// one DER certificate (as a PKCS#12 bundle holds it): read, summarised as `sigil show` does, and
/// its SPKI pin computed. PEM input also goes through the JWT `x5t#S256` reader.
enum CertificateTarget {
    static let now = Date(timeIntervalSince1970: 1_767_225_600)

    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let text = input.text
        var infos: [CertificateInfo] = []
        if text.contains("-----BEGIN") {
            _ = PEM.firstCertificate(in: text)
            do { infos = try CertificateInfo.chain(pem: text) } catch { return }
        } else {
            do { infos = [try CertificateInfo(derEncoded: Array(input))] } catch { return }
            // What a PKCS#12 bundle's chain becomes: PEM that must read back the same.
            do {
                let pem = try CertificateInfo.pem(derCertificates: [Array(input)])
                let again = try CertificateInfo.chain(pem: pem)
                if again != infos { FuzzCheck.fail("a certificate written as PEM reads back differently") }
            } catch {
                FuzzCheck.fail("a certificate that parses cannot be written as PEM and read back: \(error)")
            }
        }
        for info in infos {
            _ = info.summary(at: now, warningDays: 30)
            _ = info.status(at: now, warningDays: 30)
            if !info.pin.hasPrefix("sha256/") { FuzzCheck.fail("a pin without sha256/") }
        }
    }
}
