import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `openssl s_server` demanding a client certificate from the test CA (`-Verify 1
/// -verify_return_error`), answering each request with its status page (`-www`).
final class TLSServer {
    let process = Process()
    let port: Int

    init(directory: String) throws {
        var started: Int?
        // A free port: bind, then hand it over (bounded retries if another process takes it).
        for _ in 0..<5 where started == nil {
            let port = Int.random(in: 41_000...59_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory + "/server.crt", "-key", directory + "/server.key",
                                 "-CAfile", directory + "/ca.crt", "-Verify", "1", "-verify_return_error", "-www", "-quiet"]
            process.standardInput = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<50 {
                if (try? Self.connects(port)) == true { started = port; break }
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
        probe.arguments = ["python3", "-c", "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.5).close()", "\(port)"]
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

@Suite("mTLS: sigil call presents the named credential's client certificate to a server that demands one (openssl s_server)", .serialized)
struct MTLSAcceptanceTests {
    @Test("the right identity connects; none, one from another CA, and an expired one are refused with clear errors; a server outside the CA bundle is refused")
    func clientCertificates() throws {
        let cli = CLI()
        let pki = cli.home + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        make.arguments = ["python3", interop + "/make_pki.py", pki]
        try make.run()
        make.waitUntilExit()
        #expect(make.terminationStatus == 0)
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
            #expect(refused.stderr.contains("GET to named credential \(name): TLS failed: ") && refused.stderr.contains(meaning), "\(name): \(refused.stderr)")
            #expect(!refused.output.contains("PRIVATE KEY"))
        }
    }
}
