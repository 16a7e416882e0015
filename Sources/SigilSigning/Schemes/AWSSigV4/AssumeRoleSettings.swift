import Crypto
import SigilCore
import SigilModel

/// The STS `AssumeRole` settings of a SigV4 principal with a `roleArn` (AWS STS API reference,
/// "AssumeRole"): temporary credentials obtained with the principal's stored keys then sign its
/// requests (`SigilTokens`'s `AssumeRoleProvider` makes the call).
///
/// Parameters (principal, else external credential): `roleArn` (required), `externalId`,
/// `roleSessionName` (default `sigil-<principal>`), `durationSeconds` (900 to 43200; default 3600),
/// `stsEndpoint` (default `https://sts.<stsRegion>.amazonaws.com`), `stsRegion` (default the
/// credential's `region`, else `us-east-1`), `refreshMargin` (seconds before expiry at which new
/// credentials are obtained; default 300).
package struct AssumeRoleSettings: Sendable {
    package let roleARN: String
    package let externalID: String?
    package let sessionName: String
    package let duration: Int
    package let endpoint: String
    package let region: String
    package let margin: Int64

    init(_ parameters: SchemeParameters) throws(SettingIssue) {
        let roleARN = try parameters.required("roleArn", example: "arn:aws:iam::123456789012:role/NAME")
        guard roleARN.hasPrefix("arn:"), roleARN.split(separator: ":", omittingEmptySubsequences: false).count >= 6
        else {
            throw SettingIssue(parameter: "roleArn", "must be a role ARN (arn:aws:iam::123456789012:role/NAME)")
        }
        self.roleARN = roleARN
        externalID = parameters["externalId"]
        if let externalID,
            !(2...1224).contains(externalID.utf8.count) || !externalID.utf8.allSatisfy(Self.isSessionNameByte)
        {
            throw SettingIssue(parameter: "externalId", "must be 2 to 1224 characters of letters, digits and +=,.@:/-")
        }
        sessionName = parameters["roleSessionName"] ?? String("sigil-\(parameters.principal.name)".prefix(64))
        guard (2...64).contains(sessionName.utf8.count), sessionName.utf8.allSatisfy(Self.isSessionNameByte),
            !sessionName.contains(":"), !sessionName.contains("/")
        else {
            throw SettingIssue(
                parameter: "roleSessionName",
                "must be 2 to 64 characters of letters, digits and +=,.@- (set one when the principal's name does not fit)"
            )
        }
        duration = try parameters.integer("durationSeconds", default: 3600, range: 900...43_200)
        region = parameters["stsRegion"] ?? parameters["region"] ?? "us-east-1"
        guard SchemeParameters.isAWSName(region) else {
            throw SettingIssue(parameter: "stsRegion", "must be lowercase letters, digits and '-'")
        }
        endpoint = try parameters.endpoint("stsEndpoint") ?? "https://sts.\(region).amazonaws.com"
        let margin = try parameters.integer("refreshMargin", default: 300, range: 0...3600)
        guard margin < duration else {
            throw SettingIssue(
                parameter: "refreshMargin", "(\(margin) s) must be shorter than durationSeconds (\(duration) s)")
        }
        self.margin = Int64(margin)
    }

    static func isSessionNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "+=,.@-_:/".utf8.contains(byte)
        }
    }

    /// What stored credentials depend on: credentials obtained under other settings are not used.
    package var digest: String {
        let text = ["aws-sts/1", roleARN, externalID ?? "", sessionName, "\(duration)", endpoint, region].joined(
            separator: "\u{0}")
        return Hex.encode(SHA256.hash(data: Array(text.utf8)))
    }
}
