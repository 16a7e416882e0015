import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `openssl s_server` demanding a client certificate from the test CA (`-Verify 1
/// -verify_return_error`), answering each request with its status page (`-www`).
final class TLSServer {
    let process = Process()
    let port: Int

    /// `options` replace the client-certificate demand (e.g. `-tls1_1` for a server stuck on an old TLS).
    init(directory: String, options: [String]? = nil) throws {
        var started: Int?
        // A free port: bind, then hand it over (bounded retries if another process takes it).
        for _ in 0..<5 where started == nil {
            let port = Int.random(in: 41_000...59_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                [
                    "openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory + "/server.crt", "-key",
                    directory + "/server.key",
                ]
                + (options ?? ["-CAfile", directory + "/ca.crt", "-Verify", "1", "-verify_return_error"]) + [
                    "-www", "-quiet",
                ]
            process.standardInput = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<50 {
                if (try? Self.connects(port)) == true {
                    started = port
                    break
                }
                Thread.sleep(forTimeInterval: 0.1)
                if !process.isRunning { break }
            }
            if started != nil {
                self.port = port
                self.processStarted = process
                return
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "openssl s_server did not start"])
    }

    private var processStarted: Process?

    static func connects(_ port: Int) throws -> Bool {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = [
            "python3", "-c",
            "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.5).close()", "\(port)",
        ]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    /// openssl s_server does not always stop on SIGTERM while it waits in accept: SIGKILL, which
    /// it cannot ignore (it holds nothing that needs cleaning up).
    func stop() {
        guard let process = processStarted, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite(
    "mTLS: sigil call presents the named credential's client certificate to a server that demands one (openssl s_server)",
    .serialized)
struct MTLSAcceptanceTests {
    /// The test PKI (make_pki.py) in `cli.home/pki`.
    static func makePKI(_ cli: CLI) throws -> String {
        let pki = cli.home + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        #expect(try shell(["python3", interop + "/make_pki.py", pki]).status == 0)
        return pki
    }

    /// The certificate's SPKI pin as openssl computes it (curl's documented recipe for
    /// --pinnedpubkey): an independent check of Sigil's.
    static func opensslPin(_ certificate: String) throws -> String {
        let command =
            "openssl x509 -in '\(certificate)' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"
        let result = try shell(["sh", "-c", command])
        #expect(result.status == 0)
        return "sha256/" + result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(
        "the right identity connects; none, one from another CA, and an expired one are refused with clear errors; a server outside the CA bundle is refused"
    )
    func clientCertificates() throws {
        let cli = CLI()
        let pki = try Self.makePKI(cli)
        let server = try TLSServer(directory: pki)
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)"
        let config = cli.home + "/tls.yaml"
        try """
        externalCredentials:
          - { name: Plain, protocol: none, principals: [{ name: anyone }] }
        namedCredentials:
          - name: Tls
            url: "\(url)"
            externalCredential: Plain
            clientIdentity: { certificate: "file:pki/client.crt", privateKey: "file:pki/client.key" }
            trust: { caBundle: pki/ca.crt }
          - name: NoIdentity
            url: "\(url)/"
            externalCredential: Plain
            trust: { caBundle: pki/ca.crt }
          - name: OtherCA
            url: "\(url)/other"
            externalCredential: Plain
            clientIdentity: { certificate: "file:pki/other.crt", privateKey: "file:pki/other.key" }
            trust: { caBundle: pki/ca.crt }
          - name: Expired
            url: "\(url)/expired"
            externalCredential: Plain
            clientIdentity: { certificate: "file:pki/expired.crt", privateKey: "file:pki/expired.key" }
            trust: { caBundle: pki/ca.crt }
          - name: UntrustedServer
            url: "\(url)/untrusted"
            externalCredential: Plain
            clientIdentity: { certificate: "file:pki/client.crt", privateKey: "file:pki/client.key" }
            trust: { caBundle: pki/other-ca.crt }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", config])

        let good = try cli.ok(["call", "--fail", "callout:Tls/"])
        #expect(good.stdout.contains("Sigil test CA") || good.stdout.contains("s_server"), "\(good.stdout.prefix(400))")
        for (name, meaning) in [
            ("NoIdentity", "demands a client certificate and the named credential has none"),
            ("OtherCA", "does not accept the client certificate's issuer"),
            ("Expired", "refused the client certificate as expired"),
            ("UntrustedServer", "the server's certificate is not trusted"),
        ] {
            let refused = try cli.run(["call", "callout:\(name)/"])
            #expect(refused.status == 1, "\(name): \(refused.output.prefix(300))")
            #expect(
                refused.stderr.contains("GET to named credential \(name): TLS failed: ")
                    && refused.stderr.contains(meaning), "\(name): \(refused.stderr)")
            #expect(!refused.output.contains("PRIVATE KEY"))
        }
    }

    @Test(
        "trust.pins: a pin of the server's key or of its CA's key connects; any other pin is refused, naming the credential and showing the server's pin"
    )
    func pins() throws {
        let cli = CLI()
        let pki = try Self.makePKI(cli)
        let server = try TLSServer(directory: pki)
        defer { server.stop() }
        let serverPin = try Self.opensslPin(pki + "/server.crt")
        let caPin = try Self.opensslPin(pki + "/ca.crt")
        let otherPin = try Self.opensslPin(pki + "/other-ca.crt")
        let config = cli.home + "/pins.yaml"
        func credential(_ name: String, _ pins: [String]) -> String {
            """
              - name: \(name)
                url: "https://127.0.0.1:\(server.port)/\(name)"
                externalCredential: Plain
                clientIdentity: { certificate: "file:pki/client.crt", privateKey: "file:pki/client.key" }
                trust: { caBundle: pki/ca.crt, pins: [\(pins.map { "\"\($0)\"" }.joined(separator: ", "))] }
            """
        }
        try
            ([
                "externalCredentials:",
                "  - { name: Plain, protocol: none, principals: [{ name: anyone }] }",
                "namedCredentials:",
                credential("Leaf", [otherPin, serverPin]),
                credential("Root", [caPin]),
                credential("Wrong", [otherPin]),
            ].joined(separator: "\n") + "\n").write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", config])

        for name in ["Leaf", "Root"] {
            let pinned = try cli.ok(["call", "--fail", "callout:\(name)/"])
            #expect(
                pinned.stdout.contains("s_server") || pinned.stdout.contains("Sigil test CA"),
                "\(name): \(pinned.output.prefix(300))")
        }
        let started = Date()
        let refused = try cli.run(["call", "callout:Wrong/"])
        #expect(refused.status == 1)
        #expect(refused.stdout.isEmpty)
        #expect(
            refused.stderr.contains("GET to named credential Wrong: TLS failed: the server's key is not pinned"),
            "\(refused.stderr)")
        #expect(refused.stderr.contains("has pin \(serverPin)"), "\(refused.stderr)")
        // Refused on the first connection, not retried until a timeout.
        #expect(Date().timeIntervalSince(started) < 8)

        // Sigil's pin of a certificate is openssl's.
        let shown = try cli.ok(["show", "Wrong", "--json"]).stdout
        #expect(shown.contains(try Self.opensslPin(pki + "/client.crt")), "\(shown)")
        #expect(shown.contains(otherPin))
    }

    @Test(
        "token endpoints need TLS 1.2, as named credentials do: a server that offers only TLS 1.1 is refused before any secret is sent"
    )
    func tokenEndpointTLS12() throws {
        let cli = CLI()
        let pki = try Self.makePKI(cli)
        let server = try TLSServer(directory: pki, options: ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        defer { server.stop() }
        try """
        externalCredentials:
          - name: Old
            protocol: oauth2
            parameters: { tokenUrl: "https://127.0.0.1:\(server.port)/token", grantType: client_credentials, clientId: c }
            principals: [ { name: p, secrets: { clientSecret: env:S } } ]
        """.write(toFile: cli.home + "/old.yaml", atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", cli.home + "/old.yaml"], environment: ["S": "tls-client-secret"])
        let refused = try cli.run(["token", "Old"])
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains(
                "TLS failed: the server offers only TLS versions older than 1.2, which Sigil refuses"),
            "\(refused.stderr)")
        #expect(
            !refused.stderr.contains(".swift") && !refused.stderr.contains(".cc:"), "no source paths: \(refused.stderr)"
        )
    }

    @Test(
        "a PKCS#12 identity (openssl pkcs12 -export) is unpacked at apply and connects; a wrong password, a corrupt bundle, or one without key or certificate is refused at apply, naming the field, and changes nothing"
    )
    func pkcs12() throws {
        let cli = CLI()
        let pki = try Self.makePKI(cli)
        let password = "p12-password-5e0b7c2d9a41"
        let export = try shell(
            [
                "openssl", "pkcs12", "-export", "-in", pki + "/client.crt", "-inkey", pki + "/client.key", "-certfile",
                pki + "/ca.crt",
                "-name", "client", "-out", pki + "/client.p12", "-passout", "env:P12_OUT",
            ],
            environment: ["P12_OUT": password]
        )
        #expect(export.status == 0)
        // Bundles without a key or without a certificate (NIOSSL would stop the process on them).
        for (name, option) in [("certificates-only", "-nokeys"), ("key-only", "-nocerts")] {
            let made = try shell(
                [
                    "openssl", "pkcs12", "-export", option, "-in", pki + "/client.crt", "-inkey", pki + "/client.key",
                    "-out", pki + "/\(name).p12", "-passout", "env:P12_OUT",
                ],
                environment: ["P12_OUT": password]
            )
            #expect(made.status == 0)
        }
        try Data("not a PKCS#12 bundle\n".utf8).write(to: URL(fileURLWithPath: pki + "/corrupt.p12"))
        // A key that matches none of the bundle's certificates (NIOSSL's fatalError once stopped
        // the process on it): made with Python's cryptography, since openssl refuses to write one.
        let mismatched = try shell(
            [
                "python3", "-c",
                """
                import os, sys
                from cryptography import x509
                from cryptography.hazmat.primitives import serialization
                from cryptography.hazmat.primitives.serialization import pkcs12
                key = serialization.load_pem_private_key(open(sys.argv[1] + "/client.key", "rb").read(), None)
                other = x509.load_pem_x509_certificate(open(sys.argv[1] + "/other.crt", "rb").read())
                data = pkcs12.serialize_key_and_certificates(b"mismatch", key, None, [other],
                    serialization.BestAvailableEncryption(os.environ["P12_OUT"].encode()))
                open(sys.argv[1] + "/mismatched.p12", "wb").write(data)
                """, pki,
            ], environment: ["P12_OUT": password])
        #expect(mismatched.status == 0, "\(mismatched.stdout)")
        let server = try TLSServer(directory: pki)
        defer { server.stop() }
        func config(_ bundle: String) throws -> String {
            let path = cli.home + "/p12.yaml"
            try """
            externalCredentials:
              - { name: Plain, protocol: none, principals: [{ name: anyone }] }
            namedCredentials:
              - name: P12
                url: "https://127.0.0.1:\(server.port)"
                externalCredential: Plain
                clientIdentity: { pkcs12: "file:pki/\(bundle)", password: env:P12_PASSWORD }
                trust: { caBundle: pki/ca.crt }
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        try cli.ok(["init"])
        let before = try cli.ok(["export"]).stdout

        let wrong = try cli.run(
            ["apply", "-f", try config("client.p12")], environment: ["P12_PASSWORD": "not-the-password"])
        #expect(wrong.status == 1)
        #expect(
            wrong.stderr.contains(
                "named credential P12, clientIdentity.pkcs12: the password does not open the PKCS#12 bundle"),
            "\(wrong.stderr)")
        let corrupt = try cli.run(["apply", "-f", try config("corrupt.p12")], environment: ["P12_PASSWORD": password])
        #expect(corrupt.status == 1)
        #expect(
            corrupt.stderr.contains("named credential P12, clientIdentity.pkcs12: is not a PKCS#12 bundle"),
            "\(corrupt.stderr)")
        let noKey = try cli.run(
            ["apply", "-f", try config("certificates-only.p12")], environment: ["P12_PASSWORD": password])
        #expect(noKey.status == 1)
        #expect(
            noKey.stderr.contains(
                "named credential P12, clientIdentity.pkcs12: the PKCS#12 bundle holds no private key"),
            "\(noKey.stderr)")
        let noCertificate = try cli.run(
            ["apply", "-f", try config("key-only.p12")], environment: ["P12_PASSWORD": password])
        #expect(noCertificate.status == 1)
        #expect(
            noCertificate.stderr.contains(
                "named credential P12, clientIdentity.pkcs12: the PKCS#12 bundle holds no certificate"),
            "\(noCertificate.stderr)")
        let unmatched = try cli.run(
            ["apply", "-f", try config("mismatched.p12")], environment: ["P12_PASSWORD": password])
        #expect(unmatched.status == 1)
        #expect(
            unmatched.stderr.contains(
                "named credential P12, clientIdentity.pkcs12: the PKCS#12 bundle cannot be opened: its private key matches none of its certificates"
            ), "\(unmatched.stderr)")
        for result in [wrong, corrupt, noKey, noCertificate, unmatched] {
            #expect(
                !result.output.contains(password) && !result.output.contains("not-the-password")
                    && !result.output.contains("Fatal error"))
        }
        #expect(try cli.ok(["export"]).stdout == before)

        let applied = try cli.ok(["apply", "-f", try config("client.p12")], environment: ["P12_PASSWORD": password])
        #expect(applied.stdout.contains("+ named credential P12"), "\(applied.stdout)")
        let good = try cli.ok(["call", "--fail", "callout:P12/"])
        #expect(good.stdout.contains("s_server") || good.stdout.contains("Sigil test CA"), "\(good.output.prefix(300))")

        // Applied again: nothing changes (the key unpacked is the same bytes).
        let again = try cli.ok(["apply", "-f", try config("client.p12")], environment: ["P12_PASSWORD": password])
        #expect(again.stdout.contains("0 created, 0 updated"), "\(again.stdout)")
        // The chain (leaf and CA) is public configuration, exported with the CA bundle (3
        // certificates in all); the bundle and its password are not kept.
        let exported = try cli.ok(["export"]).stdout
        #expect(exported.components(separatedBy: "BEGIN CERTIFICATE").count == 4, "\(exported)")
        #expect(!exported.contains("pkcs12") && !exported.contains("password") && !exported.contains("PRIVATE KEY"))
        try exported.write(toFile: cli.home + "/exported.yaml", atomically: true, encoding: .utf8)
        #expect(try cli.ok(["apply", "-f", cli.home + "/exported.yaml"]).stdout.contains("0 created, 0 updated"))
        let shown = try cli.ok(["show", "P12"]).stdout
        #expect(shown.contains("subject: CN=client") && shown.contains("issuer: CN=Sigil test CA"), "\(shown)")
        #expect(shown.contains("private key privateKey set (v1 current)"), "\(shown)")
        let database = try Data(contentsOf: URL(fileURLWithPath: cli.vaultPath))
        #expect(database.range(of: Data(password.utf8)) == nil)
    }

    @Test(
        "show and list give the client certificate's subject, issuer, validity and days left, warn within --expiry-warning-days, say expired; call and sign warn on stderr"
    )
    func certificateStatus() throws {
        let cli = CLI()
        let pki = try Self.makePKI(cli)
        let server = try TLSServer(directory: pki)
        defer { server.stop() }
        let config = cli.home + "/status.yaml"
        try """
        externalCredentials:
          - { name: Plain, protocol: none, principals: [{ name: anyone }] }
        namedCredentials:
          - name: Tls
            url: "https://127.0.0.1:\(server.port)"
            externalCredential: Plain
            clientIdentity: { certificate: "file:pki/client.crt", privateKey: "file:pki/client.key" }
            trust: { caBundle: pki/ca.crt }
          - name: Expired
            url: "https://127.0.0.1:\(server.port)/expired"
            externalCredential: Plain
            clientIdentity: { certificate: "file:pki/expired.crt", privateKey: "file:pki/expired.key" }
            trust: { caBundle: pki/ca.crt }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", config])

        // The client certificate is valid for 30 days from now (make_pki.py): 29 whole days left,
        // inside the default window of 30 days, outside one of 7.
        let shown = try cli.ok(["show", "Tls", "--expiry-warning-days", "7"]).stdout
        #expect(shown.contains("subject: CN=client") && shown.contains("issuer: CN=Sigil test CA"), "\(shown)")
        #expect(shown.contains("(29 days left)") && !shown.contains("warning"), "\(shown)")
        let json =
            try JSONSerialization.jsonObject(
                with: Data(try cli.ok(["show", "Tls", "--json", "--expiry-warning-days", "7"]).stdout.utf8))
            as? [String: Any]
        let identity = (json?["namedCredential"] as? [String: Any])?["clientIdentity"] as? [String: Any]
        #expect(identity?["subject"] as? String == "CN=client")
        #expect(identity?["issuer"] as? String == "CN=Sigil test CA")
        #expect(identity?["status"] as? String == "valid")
        #expect(identity?["daysLeft"] as? Int == 29)
        #expect(identity?["warningDays"] as? Int == 7)
        #expect((identity?["notAfter"] as? String)?.hasSuffix("Z") == true)
        #expect(identity?["notBefore"] != nil)
        #expect(identity?["pin"] as? String == (try Self.opensslPin(pki + "/client.crt")))

        let soon = try cli.ok(["show", "Tls"]).stdout
        #expect(
            soon.contains("warning: client certificate CN=client (issuer CN=Sigil test CA) expires soon: "), "\(soon)")
        #expect(soon.contains(", 29 days left"), "\(soon)")
        #expect(try cli.ok(["show", "Tls", "--json"]).stdout.contains("\"status\" : \"expires-soon\""))
        let listed = try cli.ok(["list", "--expiry-warning-days", "7"]).stdout
        #expect(
            listed.contains(
                "warning: client certificate CN=expired (issuer CN=Sigil test CA) expired on 2020-06-01T00:00:00Z"),
            "\(listed)")
        #expect(!listed.contains("CN=client (issuer"), "\(listed)")
        #expect(try cli.ok(["list", "--json"]).stdout.contains("\"status\" : \"expired\""))
        #expect(
            try cli.ok(["list"]).stdout.contains(
                "warning: client certificate CN=client (issuer CN=Sigil test CA) expires soon"))

        // call and sign: the warning on stderr (once, retries or not), stdout untouched.
        let call = try cli.ok(["call", "--fail", "callout:Tls/"])
        #expect(
            call.stderr.contains(
                "sigil: warning: named credential Tls: client certificate CN=client (issuer CN=Sigil test CA) expires soon"
            ), "\(call.stderr)")
        #expect(call.stderr.components(separatedBy: "warning").count == 2)
        #expect(!call.stdout.contains("warning"))
        #expect(
            !(try cli.ok(["call", "--fail", "--expiry-warning-days", "7", "callout:Tls/"])).stderr.contains("warning"))
        let signed = try cli.ok(["sign", "callout:Expired/x"])
        #expect(
            signed.stderr.contains(
                "sigil: warning: named credential Expired: client certificate CN=expired (issuer CN=Sigil test CA) expired on 2020-06-01T00:00:00Z"
            ), "\(signed.stderr)")
        #expect(signed.stdout.hasPrefix("GET https://127.0.0.1:"))
    }
}
