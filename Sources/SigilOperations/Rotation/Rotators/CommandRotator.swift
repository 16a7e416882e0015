import Foundation
import SigilCore
import SigilModel
import SigilStore
import SigilTokens

/// Rotates through an operator's executable, as AWS Secrets Manager runs a rotation function: for a
/// provider Sigil has no built-in rotator for. The executable (`command.path`, with
/// `command.arguments`, never secrets) is run once per step with one JSON document on standard input:
///
/// ```json
/// {"version": 1, "step": "create", "owner": {"externalCredential": "Billing", "principal": "billing-org"},
///  "fields": ["password"], "current": {"password": "..."}, "pending": {...}, "retire": {...}}
/// ```
///
/// Steps: `create` (answer on standard output exactly `{"values": {"FIELD": "NEW VALUE", ...}}` for
/// the rotated fields), `set` (make the provider accept `pending`), `test` (prove `pending`), `finish`
/// (called before `pending` becomes current), `retire` (make the provider refuse `retire`: the
/// previous values at clean-up, or the abandoned new ones at rollback). Exit status 0 is success,
/// anything else failure; a step may be run again after a crash, so each must be idempotent.
///
/// Strictly bounded: the environment holds `PATH`, `LANG` and `SIGIL_ROTATION_STEP` only (no
/// secrets, nothing of Sigil's own environment such as a master key), a step running longer than
/// `command.timeout` is killed with its whole process group, standard output is capped at 64 KiB
/// and read only at `create`, and from standard error only its last line (at most 300 bytes, with
/// any value given on standard input cut out) reaches the error message.
struct CommandRotator: ProviderRotator {
    func create(_ step: RotationStep, since: Date) async throws -> [String: SecretBytes]? {
        try Self.parseValues(try await run("create", step, current: step.values(.current)), fields: step.fields)
    }

    func set(_ step: RotationStep) async throws {
        _ = try await run("set", step, current: step.values(.current), pending: step.values(.pending))
    }

    func test(_ step: RotationStep) async throws -> String? {
        _ = try await run("test", step, current: step.values(.current), pending: step.values(.pending))
        return "the command's test step succeeded"
    }

    func finish(_ step: RotationStep) async throws {
        _ = try await run("finish", step, current: step.values(.current), pending: step.values(.pending))
    }

    func retire(_ step: RotationStep, values: [String: SecretBytes], reason: RetireReason) async throws {
        _ = try await run("retire", step, current: step.values(.current), retire: values)
        try step.vault.recordRotationEvent(
            "rotation.provider-retire", owner: step.owner,
            detail: ["fields": step.fields.joined(separator: ","), "reason": reason.rawValue])
    }

    /// `{"values": {...}}` holding exactly `fields`, as strings.
    static func parseValues(_ output: SecretBytes, fields: [String]) throws -> [String: SecretBytes] {
        let problem =
            "the command's create step must print {\"values\": {\(fields.map { "\"\($0)\": \"...\"" }.joined(separator: ", "))}}"
        let object = output.withUnsafeBytes { bytes in
            try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        }
        guard let object, object.count == 1, let values = object["values"] as? [String: Any],
            Set(values.keys) == Set(fields)
        else { throw SigilError(.providerFailed, problem) }
        var result: [String: SecretBytes] = [:]
        for (field, value) in values {
            guard let text = value as? String, !text.isEmpty else {
                throw SigilError(.providerFailed, "\(problem): \(field) is not a non-empty string")
            }
            result[field] = SecretBytes(utf8: text)
        }
        return result
    }

    private func run(
        _ name: String, _ step: RotationStep, current: [String: SecretBytes], pending: [String: SecretBytes] = [:],
        retire: [String: SecretBytes] = [:]
    ) async throws -> SecretBytes {
        guard let command = step.policy.command else {
            throw SigilError(.invalidConfiguration, "\(step.owner): the command rotator needs command.path")
        }
        let input = Self.document(name, step, current: current, pending: pending, retire: retire)
        let secrets = Array(current.values) + Array(pending.values) + Array(retire.values)
        let result = try await ChildProcess.run(
            path: command.path, arguments: command.arguments,
            environment: ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "SIGIL_ROTATION_STEP=\(name)"],
            input: input, timeout: .seconds(command.timeout), maximumOutput: 64 * 1024)
        let describe = "the command rotator (\(command.path)) at step \(name) for \(step.owner)"
        switch result.ending {
        case .exited(0):
            return result.output
        case .exited(let status):
            throw SigilError(
                .providerFailed,
                "\(describe) exited with status \(status)\(Self.lastLine(result.errors, without: secrets))")
        case .signalled(let signal):
            throw SigilError(.providerFailed, "\(describe) was ended by signal \(signal)")
        case .timedOut:
            throw SigilError(.providerFailed, "\(describe) ran longer than \(command.timeout) s and was killed")
        case .outputTooLong:
            throw SigilError(.providerFailed, "\(describe) wrote more than 64 KiB to standard output and was killed")
        }
    }

    /// `: LAST LINE` of standard error, without any of `secrets`, cut to 300 bytes; empty when
    /// there is none.
    static func lastLine(_ errors: [UInt8], without secrets: [SecretBytes]) -> String {
        var line = errors.split(separator: UInt8(ascii: "\n")).last.map(Array.init) ?? []
        for secret in secrets where secret.count >= 4 {
            secret.withUnsafeBytes { value in
                let value = Array(value)
                while let range = line.firstRange(of: value) {
                    line.replaceSubrange(range, with: Array("[redacted]".utf8))
                }
            }
        }
        // Made printable first (which can lengthen it: a control byte is shown escaped), then cut
        // to 300 bytes at a character's end.
        var shown = ""
        for character in String(decoding: line.prefix(1200), as: UTF8.self).sanitizedForMessage {
            guard shown.utf8.count + character.utf8.count <= 300 else { break }
            shown.append(character)
        }
        return shown.isEmpty ? "" : ": \(shown)"
    }

    /// The step's JSON document, written straight into secret memory.
    static func document(
        _ name: String, _ step: RotationStep, current: [String: SecretBytes], pending: [String: SecretBytes],
        retire: [String: SecretBytes]
    ) -> SecretBytes {
        let header: [(String, String)] = [
            ("externalCredential", step.reference.externalCredential), ("principal", step.reference.principal),
        ]
        let groups = [("current", current), ("pending", pending), ("retire", retire)].filter { !$0.1.isEmpty }
        var bound =
            200 + JSON.stringBound(name) + header.reduce(0) { $0 + 3 + JSON.stringBound($1.0) + JSON.stringBound($1.1) }
        bound += step.fields.reduce(0) { $0 + 1 + JSON.stringBound($1) }
        for (group, values) in groups {
            bound += 4 + JSON.stringBound(group)
            for (field, value) in values { bound += 2 + JSON.stringBound(field) + 2 + 6 * value.count }
        }
        var length = 0
        let document = SecretBytes(count: bound) { raw in
            var writer = ByteWriter(raw.bindMemory(to: UInt8.self))
            writer.write("{\"version\":1,\"step\":" as StaticString)
            writer.writeJSONString(name)
            writer.write(",\"owner\":{" as StaticString)
            for (index, (key, value)) in header.enumerated() {
                if index > 0 { writer.write(UInt8(ascii: ",")) }
                writer.writeJSONString(key)
                writer.write(UInt8(ascii: ":"))
                writer.writeJSONString(value)
            }
            writer.write("},\"fields\":[" as StaticString)
            for (index, field) in step.fields.enumerated() {
                if index > 0 { writer.write(UInt8(ascii: ",")) }
                writer.writeJSONString(field)
            }
            writer.write(UInt8(ascii: "]"))
            for (group, values) in groups {
                writer.write(UInt8(ascii: ","))
                writer.writeJSONString(group)
                writer.write(":{" as StaticString)
                for (index, (field, value)) in values.sorted(by: { $0.key < $1.key }).enumerated() {
                    if index > 0 { writer.write(UInt8(ascii: ",")) }
                    writer.writeJSONString(field)
                    writer.write(UInt8(ascii: ":"))
                    value.withUnsafeBytes { writer.writeJSONString($0) }
                }
                writer.write(UInt8(ascii: "}"))
            }
            writer.write("}\n" as StaticString)
            length = writer.count
        }
        return document.withUnsafeBytes { SecretBytes(copying: $0.prefix(length)) }
    }
}
