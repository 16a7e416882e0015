import Foundation

@testable import SigilCore
@testable import SigilOperations

/// `command-output`: what a command rotator prints at `create` (`{"values": {...}}`), parsed as
/// ``CommandRotator`` parses it, and its standard error's last line as error messages show it:
/// an accepted answer holds exactly the fields asked for, and no value given to the command (here:
/// the first field's new value) survives in the line shown.
enum CommandOutputTarget {
    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        let output = SecretBytes(copying: input, lockingMemory: false)
        if let values = try? CommandRotator.parseValues(output, fields: ["apiKey", "secret"]) {
            if Set(values.keys) != ["apiKey", "secret"] || values.values.contains(where: \.isEmpty) {
                FuzzCheck.fail("an accepted create answer does not hold exactly the fields asked for")
            }
        }
        let secret = SecretBytes(utf8: "s3cret-value", lockingMemory: false)
        let line = CommandRotator.lastLine(Array(input), without: [secret])
        if line.contains("s3cret-value") { FuzzCheck.fail("a value given to the command reached the message") }
        if line.utf8.count > 330 { FuzzCheck.fail("the message's line is longer than its bound") }
    }
}
