import Foundation
import SigilCore
import Testing

@testable import SigilTokens

@Suite("SAML assertions verified by the xmlsec1 CLI")
struct SAMLAssertionTests {
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(
        "the enveloped RSA-SHA256 signature verifies with the certificate; a changed subject, audience or key does not")
    func verification() throws {
        let directory = NSTemporaryDirectory() + "sigil-saml-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["idp", "other"] {
            #expect(
                try run([
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/\(name).key",
                    "-out", "\(directory)/\(name).crt", "-days", "2", "-subj", "/CN=\(name)",
                ]).status == 0)
        }
        let key = SecretBytes(utf8: try String(contentsOfFile: "\(directory)/idp.key", encoding: .utf8))
        let certificate = try String(contentsOfFile: "\(directory)/idp.crt", encoding: .utf8)
        let assertion = SAMLAssertion(
            issuer: "https://idp.example/<&>", subject: "alice@example.com", audience: "http://127.0.0.1:9/oauth/token",
            recipient: "http://127.0.0.1:9/oauth/token?a=1&b=\"2\"", now: Date())
        let signed = try assertion.signed(with: key, certificatePEM: certificate, owner: "test")
        func verify(_ xml: String, certificate: String = "idp.crt") throws -> Bool {
            let path = "\(directory)/doc-\(UInt64.random(in: 0...UInt64.max)).xml"
            try xml.write(toFile: path, atomically: true, encoding: .utf8)
            return try run([
                "xmlsec1", "--verify", "--enabled-key-data", "key-name", "--pubkey-cert-pem",
                "\(directory)/\(certificate)",
                "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", path,
            ]).status == 0
        }
        #expect(try verify(signed))
        #expect(try verify(assertion.response(wrapping: signed)), "the assertion still verifies inside a Response")
        #expect(try !verify(signed.replacingOccurrences(of: "alice@example.com", with: "mallory@example.com")))
        #expect(
            try !verify(
                signed.replacingOccurrences(
                    of: "<saml:Audience>http://127.0.0.1:9/", with: "<saml:Audience>http://127.0.0.1:8/")))
        #expect(try !verify(signed, certificate: "other.crt"))
        #expect(signed.contains("Recipient=\"http://127.0.0.1:9/oauth/token?a=1&amp;b=&quot;2&quot;\""))

        try openssl([
            "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "\(directory)/weak.key",
        ])
        let weak = SecretBytes(utf8: try String(contentsOfFile: "\(directory)/weak.key", encoding: .utf8))
        let error = #expect(throws: SigilError.self) {
            try assertion.signed(with: weak, certificatePEM: nil, owner: "principal S/p")
        }
        #expect(error?.reason == "principal S/p: the RSA key has 1024 bits; at least 2048 are required")
    }

    func openssl(_ arguments: [String]) throws {
        #expect(try run(["openssl"] + arguments).status == 0)
    }
}
