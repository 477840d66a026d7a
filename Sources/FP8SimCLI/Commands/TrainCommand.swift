import FP8Data
import FP8Models
import FP8Sim
import Foundation

/// `fp8sim train`: a training study on the simulated device (issue 15, first form): a two-layer
/// MLP fits a random teacher MLP with FP8 GEMMs in the forward and backward passes, one run per
/// scaling method and seed; every run also gives its FP32 curve (the shadow). Prints the losses
/// per method and seed; `--csv FILE` writes every step.
enum TrainCommand: Command {
  static let name = "train"
  static let summary =
    "Train a small MLP with FP8 forward and backward GEMMs (AMAX, CSCALE, ...) against FP32."
  static let synopsis =
    "[--methods amax,cscale:B,delayed,...] [--seeds N] [--steps N] [--rate R] [--optimizer O] [--loss-scale E] [--auto-loss-scale] [--rows T] [--inputs K] [--hidden F] [--outputs N] [--device D] [--csv FILE] [--format text|json]"
  static let options: [CommandOption] = [
    CommandOption(
      "--methods", value: "LIST",
      help: "Scalings to train with: amax, cscale:B, delayed (default amax,cscale:0,cscale:4)."),
    CommandOption("--seeds", value: "N", help: "Runs per method, seeds 1...N (default 2)."),
    CommandOption("--steps", value: "N", help: "SGD steps per run (default 60)."),
    CommandOption("--rate", value: "R", help: "Learning rate (default 0.2)."),
    CommandOption(
      "--optimizer", value: "O",
      help:
        "host-sgd (default: plain SGD on the host), or on the device: sgd, momentum (β 0.9), adamw (0.9, 0.999, 1e-8, decay 0.01)."
    ),
    CommandOption(
      "--loss-scale", value: "E", help: "Loss scale 2^E (default 0); the start with --auto-loss-scale."),
    CommandOption(
      "--auto-loss-scale",
      help: "Automatic loss scaling: skip and back off on overflow, grow after 20 good steps."),
    CommandOption("--rows", value: "T", help: "Training examples (default 32)."),
    CommandOption("--inputs", value: "K", help: "Input width (default 16)."),
    CommandOption("--hidden", value: "F", help: "Hidden width (default 32)."),
    CommandOption("--outputs", value: "N", help: "Output width (default 8)."),
    DeviceLoading.deviceOption,
    CommandOption(
      "--csv", value: "FILE",
      help: "Write every step: method, seed, step, loss, FP32 loss, loss scale, applied."),
    CommandOption("--format", value: "F", help: "text (default) or json."),
  ]

  enum Format: String, CaseIterable { case text, json }

  static func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
    guard arguments.positionals.isEmpty else { throw UsageError("train takes options only") }
    var task = TeacherTask()
    task.steps = try arguments.integer("--steps", default: 60, range: 1...100_000)
    task.rows = try arguments.integer("--rows", default: 32, range: 1...4096)
    task.inputs = try arguments.integer("--inputs", default: 16, range: 1...4096)
    task.hidden = try arguments.integer("--hidden", default: 32, range: 1...4096)
    task.outputs = try arguments.integer("--outputs", default: 8, range: 1...4096)
    task.lossScale = try arguments.integer("--loss-scale", default: 0, range: -60...60)
    if let text = arguments.value("--rate") {
      guard let r = Double(text), r.isFinite, r > 0, r <= 100 else {
        throw UsageError("--rate must be a number in (0, 100]")
      }
      task.rate = r
    }
    if arguments.has("--auto-loss-scale") { task.automatic = .init(growthInterval: 20, maximum: 60) }
    switch arguments.value("--optimizer") ?? "host-sgd" {
    case "host-sgd": task.optimizer = nil
    case "sgd": task.optimizer = .sgd
    case "momentum": task.optimizer = .momentum(beta: 0.9)
    case "adamw": task.optimizer = .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 0.01)
    case let other: throw UsageError("--optimizer is host-sgd, sgd, momentum or adamw; not '\(other)'")
    }
    let seeds = try arguments.integer("--seeds", default: 2, range: 1...100)
    let format = try arguments.choice("--format", default: Format.text)
    let device = try DeviceLoading.load(arguments.value("--device") ?? "teach", relativeTo: nil)
    let names = (arguments.value("--methods") ?? "amax,cscale:0,cscale:4").split(separator: ",").map(
      String.init)
    var methods: [(name: String, scaling: Scaling)] = []
    for name in names {
      if name.hasPrefix("cscale:"), let b = Int(name.dropFirst(7)), (-31...31).contains(b) {
        methods.append((name, .cscale(bias: b)))
      } else if name == "amax" || name == "delayed" {
        methods.append((name, Scaling.named(name, bias: 0, margin: 0)!))
      } else {
        throw UsageError("--methods lists amax, delayed or cscale:B (B in -31...31); not '\(name)'")
      }
    }
    guard Set(names).count == names.count else { throw UsageError("--methods lists each method once") }
    var files = OutputFiles(command: name)
    if let path = arguments.value("--device") { files.addInput(path) }
    if let csv = arguments.value("--csv") { try files.plan(csv, as: "--csv") }

    let study = task
    let jobs = methods.flatMap { m in (1...seeds).map { (method: m, seed: $0) } }
    let outcomes = ParallelSlots<Result<[TeacherTask.Record], any Error>>(count: jobs.count)
    DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
      outcomes.set(
        i,
        Result {
          do throws(ModelError) {
            return try study.run(jobs[i].method.scaling, seed: UInt64(jobs[i].seed), device: device)
          } catch {
            throw CommandFailure(
              "fp8sim train: error: \(jobs[i].method.name): \(error.description)", status: .runtimeFault)
          }
        })
    }
    let runs = try outcomes.values.map { try $0!.get() }

    if let csv = arguments.value("--csv") {
      var text = "method,seed,step,loss,fp32_loss,loss_scale,applied\n"
      for (job, records) in zip(jobs, runs) {
        for (i, r) in records.enumerated() {
          text +=
            "\(job.method.name),\(job.seed),\(i + 1),\(r.loss),\(r.shadowLoss),\(r.lossScale),\(r.applied ? 1 : 0)\n"
        }
      }
      try files.write(csv, what: "the curves") { try $0.append(text) }
    }
    func fixed(_ x: Double) -> String { x.isFinite ? TextReport.fixed(x, 5) : "nan" }
    if format == .json {
      let o: JSONValue = .array(
        zip(jobs, runs).map { job, records in
          .object([
            ("method", .string(job.method.name)), ("seed", .int(job.seed)),
            ("loss", .array(records.map { .number($0.loss) })),
            ("fp32_loss", .array(records.map { .number($0.shadowLoss) })),
            ("loss_scale", .array(records.map { .int($0.lossScale) })),
            ("skipped", .int(records.filter { !$0.applied }.count)),
          ])
        })
      context.stdout.write(o.rendered() + "\n")
      return .success
    }
    var out =
      "fp8sim train: a \(task.inputs)→\(task.hidden)→\(task.outputs) MLP fits a random teacher on \(task.rows) examples, \(task.steps) SGD steps at rate \(task.rate), on \(device.name)\n\n"
    var rows: [[String]] = []
    for (job, records) in zip(jobs, runs) {
      rows.append([
        job.method.name, "\(job.seed)", fixed(records.first!.loss), fixed(records.last!.loss),
        fixed(records.last!.shadowLoss), "\(records.filter { !$0.applied }.count)",
        "\(records.last!.lossScale)",
      ])
    }
    out += TextTable(
      header: ["method", "seed", "first loss", "final loss", "FP32 final loss", "skipped", "loss scale"],
      rows: rows,
      rightAligned: [1, 2, 3, 4, 5, 6], underline: true
    ).render()
    out += "\nFP32: the same steps on the FP32 shadow (each run's weights follow their own FP32 gradients).\n"
    context.stdout.write(out)
    return .success
  }
}
