extension Program {
  /// Checks that a program value is one the assembler could have produced: its canonical text
  /// assembles, prints back to the same text, and has the same tensors, outputs, labels and
  /// branch targets. `Program`'s fields are public, so a value built or changed by hand could
  /// name a register, tensor or instruction that does not exist; the simulator refuses such a
  /// program (`Machine.init`) instead of trapping on it.
  public func validate() throws(DiagnosticList) {
    // Canonical text can be longer than the source it came from; data files were checked (or
    // deliberately not) when the program was made.
    _ = try reassembled(
      options: Assembler.Options(checkDataFiles: false, maxSourceBytes: 4 * ProgramLimits.maxSourceBytes),
      mismatch: "the program's labels, branch targets or tensors are inconsistent")
  }

  /// Prints the program (after `header`, comment lines), assembles that text and returns the
  /// result, which must read back as this program: the same canonical text (texts, not values,
  /// so that NaN constants compare equal), tensors, outputs, labels and branch targets. Throws
  /// the assembler's diagnostics, or `mismatch` as an internal error.
  func reassembled(header: String = "", options: Assembler.Options, mismatch: String) throws(DiagnosticList)
    -> Program
  {
    let text = Disassembler.text(of: self)
    let printed = SourceFile(path: source.path, text: header + text)
    let again = try Assembler.assemble(printed, options: options)
    let sameTargets = zip(again.instructions, instructions).allSatisfy {
      $0.operation.label?.target == $1.operation.label?.target
    }
    guard Disassembler.text(of: again) == text, again.tensors.count == tensors.count,
      again.outputs == outputs, again.labels == labels, again.instructions.count == instructions.count,
      sameTargets
    else {
      throw DiagnosticList(
        [Diagnostic(.internalError(mismatch), at: SourceLocation(file: source.path, line: 1, column: 1))],
        source: printed)
    }
    return again
  }
}
