import Foundation
import Testing

/// The command rotator: an operator's executable run per step with a JSON document on standard
/// input (`Tests/Interop/command_rotator.py` plays a provider of API keys).
@Suite("sigil rotate: the command rotator", .serialized)
struct CommandRotatorAcceptanceTests {
    struct Provider {
        let folder: String
        var accepted: [String] {
            (try? JSONDecoder().decode(
                [String].self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/accepted.json"))))
                ?? []
        }
        var log: [[String: Any]] {
            ((try? String(contentsOfFile: folder + "/log.jsonl", encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
        }
    }

    /// A vault whose `Keys/org` apiKey is rotated by the script in `mode`; the provider accepts the
    /// first key.
    func setUp(_ cli: CLI, mode: String, timeout: String = "20s") throws -> Provider {
        let provider = Provider(folder: cli.home + "/provider")
        try FileManager.default.createDirectory(atPath: provider.folder, withIntermediateDirectories: true)
        try JSONEncoder().encode(["first-key-0123456789"]).write(
            to: URL(fileURLWithPath: provider.folder + "/accepted.json"))
        try cli.ok(["init"])
        // The interpreter itself (not a shim script that adds its own environment).
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import sys; print(sys.executable)"]
        let output = Pipe()
        probe.standardOutput = output
        try probe.run()
        let python = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        probe.waitUntilExit()
        let config = cli.home + "/command.yaml"
        try """
        externalCredentials:
          - name: Keys
            protocol: custom
            customHeaders:
              - { name: X-Api-Key, value: "{!$Credential.Keys.apiKey}" }
            rotation:
              rotator: command
              every: 30d
              grace: 1d
              command: { path: "\(python)", arguments: ["\(interop)/command_rotator.py", "\(provider.folder)", "\(mode)"], timeout: \(timeout) }
            principals:
              - { name: org, secrets: { apiKey: env:KEY } }
        namedCredentials:
          - { name: Keys, url: "https://keys.example", externalCredential: Keys, allowMergeFieldsInHeader: true }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config], environment: ["KEY": "first-key-0123456789"])
        return provider
    }

    func currentKey(_ cli: CLI) throws -> String {
        let signed = try cli.ok(["sign", "callout:Keys/x"]).stdout
        return String(try #require(signed.split(separator: "\n").first { $0.hasPrefix("X-Api-Key: ") }).dropFirst(11))
    }

    @Test(
        "create, set, test, finish and retire run the command with the JSON document; only its value is kept; nothing secret in its environment or argv"
    )
    func fullRotation() throws {
        let cli = CLI()
        let provider = try setUp(cli, mode: "ok")
        #expect(try cli.ok(["rotate", "start", "Keys/org"]).stdout.contains("Started"))
        #expect(try currentKey(cli) == "first-key-0123456789")
        #expect(try cli.ok(["rotate", "test", "Keys/org"]).stdout.contains("the command's test step succeeded"))
        #expect(provider.accepted.count == 2)
        try cli.ok(["rotate", "finish", "Keys/org"])
        let key = try currentKey(cli)
        #expect(key.hasPrefix("cmd-") && provider.accepted.contains(key))
        try cli.ok(["rotate", "cleanup", "Keys/org", "--grace", "0"])
        #expect(provider.accepted == [key])

        let log = provider.log
        #expect(log.map { $0["step"] as? String } == ["create", "set", "test", "finish", "retire"], "\(log)")
        for entry in log {
            // The environment holds PATH, LANG and the step only: not the vault, not its key.
            let names = Set(entry["env"] as? [String] ?? []).subtracting(["LC_CTYPE"])
            #expect(names == ["PATH", "LANG", "SIGIL_ROTATION_STEP"], "\(names)")
            #expect((entry["owner"] as? [String: String]) == ["externalCredential": "Keys", "principal": "org"])
            #expect((entry["fields"] as? [String]) == ["apiKey"] && (entry["version"] as? Int) == 1)
        }
        #expect((log[0]["keys"] as? [String]) == ["current", "fields", "owner", "step", "version"])
        #expect((log[2]["keys"] as? [String]) == ["current", "fields", "owner", "pending", "step", "version"])
        #expect((log[4]["keys"] as? [String]) == ["current", "fields", "owner", "retire", "step", "version"])
        let audit = try cli.ok(["audit", "list", "--limit", "20"]).stdout
        #expect(audit.contains("rotation.provider-retire") && !audit.contains(key))
    }

    @Test(
        "a failing test step: its status and last line of standard error, without the secret; current untouched; rollback retires the new value"
    )
    func failingTest() throws {
        let cli = CLI()
        let provider = try setUp(cli, mode: "fail-test")
        try cli.ok(["rotate", "start", "Keys/org"])
        let failed = try cli.run(["rotate", "test", "Keys/org"])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("exited with status 3: the provider refused [redacted]"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("cmd-"))
        #expect(try currentKey(cli) == "first-key-0123456789")
        try cli.ok(["rotate", "rollback", "Keys/org"])
        #expect(provider.accepted == ["first-key-0123456789"])
        #expect(provider.log.last?["step"] as? String == "retire")
    }

    @Test(
        "strict limits: a step past its time limit is killed with its process group; output that is not the values, or too long, is refused; the rotation is rolled back",
        arguments: [
            ("slow", "ran longer than 2 s and was killed"), ("spawner", "ran longer than 2 s and was killed"),
            ("bad-output", "must print {\"values\": {\"apiKey\": \"...\"}}"),
            ("loud", "wrote more than 64 KiB to standard output"),
        ])
    func limits(mode: String, message: String) throws {
        let cli = CLI()
        _ = try setUp(cli, mode: mode, timeout: "2s")
        let started = Date()
        let refused = try cli.run(["rotate", "start", "Keys/org"])
        #expect(refused.status != 0 && refused.stderr.contains(message), "\(refused.stderr)")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(try currentKey(cli) == "first-key-0123456789")
        #expect(try cli.ok(["rotate", "status", "Keys/org"]).stdout.contains("rolled-back"))
    }
}
