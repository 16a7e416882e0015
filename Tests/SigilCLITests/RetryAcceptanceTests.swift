import Foundation
import Testing

@Suite("sigil call retries a busy server (a real local HTTP server)", .serialized)
struct RetryAcceptanceTests {
    struct Info: Decodable {
        var base_url: String
    }

    @Test(
        "429/5xx: idempotent methods are asked again, waiting as Retry-After says; POST is not, unless asked; --retry 0 returns the 503"
    )
    func retries() throws {
        let cli = CLI()
        let server = try InteropPeer<Info>(
            "busy_server.py", [cli.home + "/busy.json"], infoPath: cli.home + "/busy.json")
        defer { server.stop() }
        let config = cli.home + "/busy.yaml"
        try """
        externalCredentials:
          - { name: Plain, protocol: none, principals: [{ name: anyone }] }
        namedCredentials:
          - { name: Busy, url: "\(server.info.base_url)", externalCredential: Plain }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["init"])
        try cli.ok(["apply", "-f", config])
        func count(_ path: String) throws -> String {
            try cli.ok(["call", "callout:Busy/_count?path=\(path)"]).stdout
        }

        #expect(try cli.ok(["call", "--fail", "callout:Busy/busy/2/get"]).stdout == "ok after 3")
        let started = Date()
        #expect(try cli.ok(["call", "--fail", "callout:Busy/after/1/get"]).stdout == "ok after 2")
        #expect(Date().timeIntervalSince(started) >= 1, "waited for Retry-After: 1")

        let post = try cli.run(["call", "--fail", "-d", "x", "callout:Busy/busy/1/post"])
        #expect(post.status == 22, "\(post.output)")
        #expect(try count("/busy/1/post") == "1", "a POST is not retried")
        #expect(
            try cli.ok(["call", "--fail", "--retry-all", "-d", "x", "callout:Busy/busy/1/post-all"]).stdout
                == "ok after 2")

        let none = try cli.run(["call", "--fail", "--retry", "0", "callout:Busy/busy/1/none"])
        #expect(none.status == 22)
        #expect(try count("/busy/1/none") == "1")
        let exhausted = try cli.run(["call", "--fail", "callout:Busy/busy/5/exhausted"])
        #expect(exhausted.status == 22)
        #expect(try count("/busy/5/exhausted") == "3", "two retries by default, then the 503")
    }
}
