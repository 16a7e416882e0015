import Foundation
import Synchronization
import Testing

/// The built-in AWS IAM access-key rotator against moto with IAM authentication on: every IAM and
/// STS call is signed by Sigil's own SigV4 signer and checked by moto.
@Suite("sigil rotate: AWS IAM access keys against moto (authentication on)", .serialized)
struct AWSRotationAcceptanceTests {
    /// A vault holding moto's user key as `Aws/deploy` (rotated; its named credential `callout:Iam/`
    /// calls IAM), a copy of it as `Old/deploy` (never rotated: `callout:OldIam/` shows whether the
    /// old key still works), and `callout:Refusing/`, whose answers are never 200.
    func setUp(_ cli: CLI, _ moto: MotoServer, policy: String = "") throws {
        try cli.ok(["init"])
        let config = cli.home + "/aws.yaml"
        try """
        externalCredentials:
          - name: Aws
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: iam, stsEndpoint: "\(moto.info.endpoint)" }
            rotation: { rotator: aws-iam-access-key, every: 30d, grace: 1d, aws: { iamEndpoint: "\(moto.info.endpoint)" }\(policy) }
            principals:
              - { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:SK } }
          - name: Old
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: iam }
            principals:
              - { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:SK } }
        namedCredentials:
          - { name: Iam, url: "\(moto.info.endpoint)", externalCredential: Aws }
          - { name: OldIam, url: "\(moto.info.endpoint)", externalCredential: Old }
          - { name: Refusing, url: "\(moto.info.endpoint)/refuse", externalCredential: Aws }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config], environment: ["AK": moto.info.access_key, "SK": moto.info.secret_key])
    }

    /// The ARN of `callout`'s keys' user (IAM GetUser), or nil with the status when refused.
    func identity(_ cli: CLI, _ callout: String = "callout:Iam/") throws -> (status: Int, arn: String?) {
        let answer = try awsQuery(cli, ["-d", "Action=GetUser&Version=2010-05-08", callout])
        return (answer.status, xmlElement("Arn", in: answer.body))
    }

    /// The IAM user's access key ids (ListAccessKeys, signed with the rotated principal's current key).
    func accessKeys(_ cli: CLI, signedBy callout: String = "callout:Iam/") throws -> [String] {
        let answer = try awsQuery(
            cli, ["-d", "Action=ListAccessKeys&UserName=sigil&Version=2010-05-08", callout])
        #expect(answer.status == 200, "\(answer.body)")
        return answer.body.components(separatedBy: "<AccessKeyId>").dropFirst().compactMap {
            $0.components(separatedBy: "</AccessKeyId>").first
        }
    }

    /// The rotated principal's current access key id, from the Authorization header it signs with.
    func currentKeyID(_ cli: CLI) throws -> String {
        let signed = try cli.ok(["sign", "-d", "Action=GetUser&Version=2010-05-08", "callout:Iam/"]).stdout
        let credential = try #require(signed.components(separatedBy: "Credential=").dropFirst().first)
        return String(credential.prefix { $0 != "/" })
    }

    @Test(
        "start creates a key at AWS, test proves it with GetCallerIdentity, finish switches, clean-up makes the old key inactive and deletes it; all audited"
    )
    func fullRotation() throws {
        let cli = CLI()
        let moto = try MotoServer(directory: cli.home)
        defer { moto.stop() }
        try setUp(cli, moto)
        let original = moto.info.access_key
        #expect(try identity(cli).arn == moto.info.user_arn)

        #expect(try cli.ok(["rotate", "start", "Aws/deploy"]).stdout.contains("Started"))
        #expect(try cli.ok(["rotate", "start", "Aws/deploy"]).stdout.contains("Already started"))
        let keys = try accessKeys(cli)
        #expect(keys.count == 2 && keys.contains(original), "\(keys)")
        // Nothing signs with the pending key yet.
        #expect(try currentKeyID(cli) == original)
        let tested = try cli.ok(["rotate", "test", "Aws/deploy"]).stdout
        #expect(tested.contains("STS GetCallerIdentity accepted the new key"), "\(tested)")
        try cli.ok(["rotate", "finish", "Aws/deploy"])
        let newKey = try currentKeyID(cli)
        #expect(newKey != original && keys.contains(newKey))
        #expect(try identity(cli).arn == moto.info.user_arn)
        // In its grace period the old key is kept, at AWS and in the vault.
        #expect(try cli.ok(["rotate", "cleanup", "Aws/deploy"]).stdout.contains("Nothing to clean up"))
        #expect(try identity(cli, "callout:OldIam/").status == 200)
        // After it, the old key is made inactive and deleted at AWS, then forgotten.
        try cli.ok(["rotate", "cleanup", "Aws/deploy", "--grace", "0"])
        #expect(try accessKeys(cli, signedBy: "callout:Iam/") == [newKey])
        #expect(try identity(cli, "callout:OldIam/").status == 403)
        #expect(try identity(cli).status == 200)
        #expect(try identity(cli).arn == moto.info.user_arn)
        // Again: nothing to retire twice.
        #expect(try cli.ok(["rotate", "cleanup", "Aws/deploy", "--grace", "0"]).stdout.contains("Nothing to clean up"))

        let audit = try cli.ok(["audit", "list", "--limit", "30"]).stdout
        for action in [
            "rotation.start", "rotation.stage", "rotation.test", "rotation.finish", "rotation.provider-retire",
            "rotation.clean-up",
        ] {
            #expect(audit.contains(action), "\(action) not audited")
        }
        #expect(audit.contains(original) && !audit.contains(moto.info.secret_key))
        // No secret in the vault file in plaintext, nor in the output of any step.
        let file = try Data(contentsOf: URL(fileURLWithPath: cli.vaultPath))
        #expect(file.range(of: Data(moto.info.secret_key.utf8)) == nil)
    }

    @Test(
        "AWS allows two keys per user: a third is refused with a clear error, current untouched; a failing test leaves current and rollback deletes the new key"
    )
    func limitsAndFailures() throws {
        let cli = CLI()
        let moto = try MotoServer(directory: cli.home)
        defer { moto.stop() }
        try setUp(cli, moto, policy: ", testRequest: { url: \"callout:Refusing/\", expect: [200] }")
        let original = moto.info.access_key

        // Someone made a second key by hand: AWS refuses a third, and the rotation says why.
        let extra = try awsQuery(
            cli, ["-d", "Action=CreateAccessKey&UserName=sigil&Version=2010-05-08", "callout:Iam/"])
        let extraID = try #require(xmlElement("AccessKeyId", in: extra.body))
        // (A key made in the same second as a start could be taken for one that start made.)
        usleep(1_100_000)
        let refused = try cli.run(["rotate", "start", "Aws/deploy"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("AWS allows two access keys per IAM user"), "\(refused.stderr)")
        #expect(refused.stderr.contains(extraID) && refused.stderr.contains(original), "\(refused.stderr)")
        #expect(try currentKeyID(cli) == original)
        #expect(try cli.ok(["rotate", "status", "Aws/deploy"]).stdout.contains("rolled-back"))
        #expect(try identity(cli).status == 200)
        _ = try awsQuery(
            cli,
            ["-d", "Action=DeleteAccessKey&UserName=sigil&AccessKeyId=\(extraID)&Version=2010-05-08", "callout:Iam/"])

        // The policy's test request is refused: the test fails, current is untouched...
        try cli.ok(["rotate", "start", "Aws/deploy"])
        let failed = try cli.run(["rotate", "test", "Aws/deploy"])
        #expect(
            failed.status != 0 && failed.stderr.contains("failed its test; current is unchanged"), "\(failed.stderr)")
        #expect(try cli.run(["rotate", "finish", "Aws/deploy"]).status != 0)
        #expect(try currentKeyID(cli) == original)
        #expect(try accessKeys(cli).count == 2)
        // ...and rollback deletes the new key at AWS.
        try cli.ok(["rotate", "rollback", "Aws/deploy"])
        #expect(try accessKeys(cli) == [original])
        #expect(try identity(cli).status == 200)
    }

    @Test(
        "kill -9 between and inside every step, then resume: the rotation completes, the credential always works, AWS keeps exactly one key"
    )
    func crashAtEveryStep() throws {
        let cli = CLI()
        let moto = try MotoServer(directory: cli.home)
        defer { moto.stop() }
        try setUp(cli, moto)
        var previous = moto.info.access_key
        for point in [
            "rotation.before-start", "rotation.start.after-begin", "rotation.start.after-create",
            "rotation.test.after-set", "rotation.before-finish", "rotation.finish.after-provider",
            "rotation.before-cleanup", "rotation.cleanup.after-retire",
        ] {
            let crashed = try cli.run(
                ["rotate", "run", "Aws/deploy", "--grace", "0"], environment: ["SIGIL_TEST_CRASH_AT": point])
            #expect(crashed.status != 0, "\(point): the process was not killed")
            // Whatever the crash left, the credential signs requests AWS accepts.
            #expect(try identity(cli).status == 200, "\(point): the current key does not work")
            // Resumed: the rotation completes (a crash before start leaves nothing to resume).
            let resumed = try cli.ok(["rotate", "run", "Aws/deploy", "--grace", "0"])
            let status = try cli.ok(["rotate", "status", "Aws/deploy"]).stdout
            #expect(status.contains("cleaned"), "\(point): \(resumed.stdout) / \(status)")
            let current = try currentKeyID(cli)
            #expect(current != previous, "\(point): not rotated")
            #expect(try accessKeys(cli, signedBy: "callout:Iam/") == [current], "\(point): AWS keeps other keys")
            #expect(try identity(cli).arn == moto.info.user_arn, "\(point)")
            previous = current
        }
        // A scheduled pass killed while it holds the principal's rotation lease: the next pass
        // (another process of this machine) sees the holder gone, takes the lease over and resumes.
        #expect(
            try cli.run(
                ["rotate", "run", "Aws/deploy"], environment: ["SIGIL_TEST_CRASH_AT": "rotation.start.after-create"]
            )
            .status != 0)
        #expect(
            try cli.run(["rotate", "due", "--run"], environment: ["SIGIL_TEST_CRASH_AT": "rotation.test.after-set"])
                .status != 0)
        let resumed = try cli.ok(["rotate", "due", "--run"]).stdout
        #expect(resumed.contains("principal Aws/deploy: tested, finished"), "\(resumed)")
        #expect(try cli.ok(["rotate", "status", "Aws/deploy"]).stdout.contains("finished"))
        #expect(try accessKeys(cli).count == 2)
        #expect(try identity(cli).arn == moto.info.user_arn)
        #expect(try cli.ok(["audit", "verify"]).status == 0)
    }

    @Test("no request fails while an access key rotates: four processes call IAM from start to clean-up")
    func zeroFailures() throws {
        let cli = CLI()
        let moto = try MotoServer(directory: cli.home)
        defer { moto.stop() }
        try setUp(cli, moto)
        let stop = Atomic<Bool>(false)
        let results = Mutex<(calls: Int, failures: [String])>((0, []))
        let group = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) {
                var calls = 0
                while calls < 300, !stop.load(ordering: .relaxed) {
                    let answer = try? awsQuery(cli, ["-d", "Action=GetUser&Version=2010-05-08", "callout:Iam/"])
                    calls += 1
                    results.withLock { results in
                        results.calls += 1
                        if answer?.status != 200 {
                            results.failures.append(
                                answer.map { "\($0.status) \($0.body.prefix(200))" } ?? "did not run")
                        }
                    }
                }
            }
        }
        func pause() { usleep(1_000_000) }
        pause()
        try cli.ok(["rotate", "start", "Aws/deploy"])
        pause()
        try cli.ok(["rotate", "test", "Aws/deploy"])
        pause()
        try cli.ok(["rotate", "finish", "Aws/deploy"])
        // The grace period: requests signed just before finish complete with the old key.
        pause()
        pause()
        try cli.ok(["rotate", "cleanup", "Aws/deploy", "--grace", "0"])
        pause()
        stop.store(true, ordering: .relaxed)
        group.wait()
        let (calls, failures) = results.withLock { $0 }
        print("AWS key rotation under load: \(calls) calls by 4 processes, \(failures.count) failed")
        #expect(failures.isEmpty, "\(failures.count) of \(calls) calls failed: \(failures.prefix(3))")
        #expect(calls >= 8)
    }
}
