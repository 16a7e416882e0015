import Foundation
import Testing

let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Interop")
    .standardized.path

/// moto's server with IAM authentication on, started for one test and stopped after it.
final class MotoServer {
    struct Info: Decodable {
        var endpoint: String
        var access_key: String
        var secret_key: String
        var role_arn: String
        var user_arn: String
    }

    let peer: InteropPeer<Info>
    var info: Info { peer.info }

    init(directory: String) throws {
        peer = try InteropPeer("moto_fixture.py", [directory + "/moto.json"], infoPath: directory + "/moto.json")
    }

    func stop() { peer.stop() }
}

/// Signs a form-encoded AWS query request with `sigil sign --json`, sends exactly that request,
/// returns (status, body).
func awsQuery(_ cli: CLI, _ arguments: [String]) throws -> (status: Int, body: String) {
    let signed = try cli.ok(
        ["sign", "--json", "-H", "Content-Type: application/x-www-form-urlencoded; charset=utf-8"] + arguments)
    let data = try runInterop("send_request.py", input: Data(signed.stdout.utf8))
    let result = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    return (result["status"] as! Int, result["body"] as! String)
}

/// The text of the first `<name>` element of `xml`.
func xmlElement(_ name: String, in xml: String) -> String? {
    guard let start = xml.range(of: "<\(name)>"),
        let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex)
    else { return nil }
    return String(xml[start.upperBound..<end.lowerBound])
}

@Suite("AWS SigV4 accepted by a real server that checks signatures (moto, IAM authentication on)", .serialized)
struct AWSAcceptanceTests {
    func call(_ cli: CLI, _ arguments: [String]) throws -> (status: Int, body: String) {
        try awsQuery(cli, arguments)
    }

    func element(_ name: String, in xml: String) -> String? {
        xmlElement(name, in: xml)
    }

    @Test(
        "GetCallerIdentity and AssumeRole signed by Sigil are accepted; a wrong secret is refused; temporary credentials with a session token work"
    )
    func sts() throws {
        let cli = CLI()
        let moto = try MotoServer(directory: cli.home)
        defer { moto.stop() }
        try cli.ok(["init"])
        let config = cli.home + "/aws.yaml"
        try """
        externalCredentials:
          - name: Aws
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts }
            principals:
              - { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:SK } }
              - { name: temporary, sequence: 5 }
          - name: AwsWrong
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts }
            principals:
              - { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:WRONG } }
        namedCredentials:
          - { name: Sts, url: "\(moto.info.endpoint)", externalCredential: Aws }
          - { name: StsWrong, url: "\(moto.info.endpoint)", externalCredential: AwsWrong }
        users:
          - { name: ci, groups: [deployers] }
        grants:
          - { principal: Aws/temporary, to: [user:ci] }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(
            ["apply", "-f", config],
            environment: ["AK": moto.info.access_key, "SK": moto.info.secret_key, "WRONG": "not-the-secret-key-at-all"])

        let identity = try call(cli, ["-d", "Action=GetCallerIdentity&Version=2011-06-15", "callout:Sts/"])
        #expect(identity.status == 200, "\(identity.body)")
        #expect(element("Arn", in: identity.body) == moto.info.user_arn)

        let wrong = try call(cli, ["-d", "Action=GetCallerIdentity&Version=2011-06-15", "callout:StsWrong/"])
        #expect(wrong.status == 403)
        #expect(wrong.body.contains("SignatureDoesNotMatch"))

        let role = moto.info.role_arn.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let assumed = try call(
            cli,
            [
                "-d",
                "Action=AssumeRole&Version=2011-06-15&RoleArn=\(role)&RoleSessionName=sigil-test&DurationSeconds=900",
                "callout:Sts/",
            ])
        #expect(assumed.status == 200, "\(assumed.body)")
        let keyID = try #require(element("AccessKeyId", in: assumed.body))
        let secret = try #require(element("SecretAccessKey", in: assumed.body))
        let token = try #require(element("SessionToken", in: assumed.body))
        #expect(keyID.hasPrefix("ASIA"))

        // The temporary credentials go into the vault like any secret; the session token is signed.
        try cli.ok(["secret", "set", "Aws/temporary", "accessKeyId"], stdin: keyID)
        try cli.ok(["secret", "set", "Aws/temporary", "secretAccessKey"], stdin: secret)
        try cli.ok(["secret", "set", "Aws/temporary", "sessionToken"], stdin: token)
        let temporary = try call(
            cli, ["--as", "ci", "-d", "Action=GetCallerIdentity&Version=2011-06-15", "callout:Sts/"])
        #expect(temporary.status == 200, "\(temporary.body)")
        #expect(element("Arn", in: temporary.body)?.contains("assumed-role/deployer/sigil-test") == true)
    }

    @Test(
        "a principal with roleArn signs with STS AssumeRole credentials: obtained once through moto, sealed, reused by the next process"
    )
    func assumeRolePrincipal() throws {
        let cli = CLI()
        let moto = try MotoServer(directory: cli.home)
        defer { moto.stop() }
        try cli.ok(["init"])
        let config = cli.home + "/aws.yaml"
        try """
        externalCredentials:
          - name: Aws
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts, stsEndpoint: "\(moto.info.endpoint)" }
            principals:
              - name: deployer
                parameters: { roleArn: "\(moto.info.role_arn)", externalId: sigil-ci-1234, roleSessionName: sigil-ci, durationSeconds: "900", refreshMargin: "60" }
                secrets: { accessKeyId: env:AK, secretAccessKey: env:SK }
          - name: AwsWrong
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts, stsEndpoint: "\(moto.info.endpoint)" }
            principals:
              - name: deployer
                parameters: { roleArn: "\(moto.info.role_arn)" }
                secrets: { accessKeyId: env:AK, secretAccessKey: env:WRONG }
        namedCredentials:
          - { name: Sts, url: "\(moto.info.endpoint)", externalCredential: Aws }
          - { name: StsWrong, url: "\(moto.info.endpoint)", externalCredential: AwsWrong }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(
            ["apply", "-f", config],
            environment: ["AK": moto.info.access_key, "SK": moto.info.secret_key, "WRONG": "not-the-secret-key-at-all"])

        for _ in 0..<2 {
            let identity = try call(cli, ["-d", "Action=GetCallerIdentity&Version=2011-06-15", "callout:Sts/"])
            #expect(identity.status == 200, "\(identity.body)")
            #expect(
                element("Arn", in: identity.body)?.hasSuffix("assumed-role/deployer/sigil-ci") == true,
                "\(identity.body)")
        }
        // Two processes signed; STS was asked once, and the credentials were stored sealed.
        let audit = try cli.ok(["audit", "list", "--json"]).stdout
        #expect(audit.components(separatedBy: "issued.store").count - 1 == 1, "\(audit)")
        let signed = try cli.ok(["sign", "--json", "-d", "Action=GetCallerIdentity&Version=2011-06-15", "callout:Sts/"])
            .stdout
        #expect(signed.contains("X-Amz-Security-Token"))
        #expect(signed.contains("ASIA"), "signed with the temporary key, not the stored one")
        #expect(!signed.contains(moto.info.access_key))

        let wrong = try cli.run(["sign", "callout:StsWrong/"])
        #expect(wrong.status != 0)
        #expect(
            wrong.stderr.contains(
                "STS AssumeRole of \(moto.info.role_arn) for principal AwsWrong/deployer was refused: HTTP 403"),
            "\(wrong.stderr)")
        #expect(!wrong.output.contains("not-the-secret-key-at-all"))
    }

    @Test(
        "sigil call end to end through moto: GetCallerIdentity with the stored keys (body in memory and streamed from a file), and with an STS AssumeRole principal"
    )
    func callThroughMoto() throws {
        let cli = CLI()
        let moto = try MotoServer(directory: cli.home)
        defer { moto.stop() }
        try cli.ok(["init"])
        let config = cli.home + "/aws.yaml"
        try """
        externalCredentials:
          - name: Aws
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts }
            principals:
              - { name: deploy, secrets: { accessKeyId: env:AK, secretAccessKey: env:SK } }
          - name: Role
            protocol: aws-sigv4
            parameters: { region: us-east-1, service: sts, stsEndpoint: "\(moto.info.endpoint)" }
            principals:
              - name: deployer
                parameters: { roleArn: "\(moto.info.role_arn)", roleSessionName: sigil-call }
                secrets: { accessKeyId: env:AK, secretAccessKey: env:SK }
        namedCredentials:
          - { name: Sts, url: "\(moto.info.endpoint)", externalCredential: Aws }
          - { name: StsRole, url: "\(moto.info.endpoint)", externalCredential: Role }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try cli.ok(["apply", "-f", config], environment: ["AK": moto.info.access_key, "SK": moto.info.secret_key])
        let form = ["-H", "Content-Type: application/x-www-form-urlencoded; charset=utf-8"]
        let action = "Action=GetCallerIdentity&Version=2011-06-15"

        let identity = try cli.ok(["call", "--fail"] + form + ["-d", action, "callout:Sts/"]).stdout
        #expect(element("Arn", in: identity) == moto.info.user_arn, "\(identity)")

        // Streamed from a file: hashed in a first pass, then sent; moto recomputes the hash.
        let path = cli.home + "/action.txt"
        try action.write(toFile: path, atomically: true, encoding: .utf8)
        let streamed = try cli.ok(["call", "--fail"] + form + ["--data-file", path, "callout:Sts/"]).stdout
        #expect(element("Arn", in: streamed) == moto.info.user_arn, "\(streamed)")
        let wrong = try cli.run(
            ["call", "--fail"] + form + [
                "--data-file", path, "--payload-sha256", String(repeating: "ab", count: 32), "callout:Sts/",
            ])
        #expect(wrong.status == 22, "a wrong declared hash is refused: \(wrong.output)")

        let assumed = try cli.ok(["call", "--fail"] + form + ["-d", action, "callout:StsRole/"]).stdout
        #expect(element("Arn", in: assumed)?.hasSuffix("assumed-role/deployer/sigil-call") == true, "\(assumed)")
    }
}
