// cmd_run.cc: `tfmath run JOB.capnp`: trains the whole global batch in one process, the reference
// every cluster run must match.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/report_files.h"
#include "jobs/data_check.h"
#include "jobs/job_error.h"
#include "jobs/job_file.h"
#include "jobs/job_override.h"
#include "jobs/metrics_file.h"
#include "jobs/params_file.h"
#include "ops/threads.h"
#include "train/metrics_recorder.h"
#include "train/trainer.h"

namespace tfmath::cli {

namespace {

struct RunOptions {
  std::string job, save, resume, initFrom, report, device = "cpu";
  std::vector<std::string> overrides;
  int threads = defaultComputeThreads();
};

int run(const RunOptions& o) {
  setComputeThreads(o.threads);
  JobFile file = JobFile::load(o.job);
  applyOverrides(file.builder(), o.overrides);
  auto job = file.job();
  const Data data = validateJob(job);
  LocalCommunicator local;
  Trainer trainer(job, data, local, o.device);
  if (!o.initFrom.empty()) {
    ParameterStateFile from(o.initFrom);
    trainer.initFrom(from.state());
    std::printf("starting from the parameters in %s\n", o.initFrom.c_str());
  }
  if (!o.resume.empty()) {
    ParameterStateFile state(o.resume);
    trainer.resume(state.state());
    std::printf("resumed from %s at epoch %u, step %llu\n", o.resume.c_str(), trainer.epoch(),
                static_cast<unsigned long long>(trainer.globalStep()));
  }
  const bool classification = job.getLoss() == proto::Loss::SOFTMAX_CROSS_ENTROPY;
  const std::string device = trainer.backend().device();
  std::printf("%s: %lld training samples%s, %zu parameters, batch %u, %u epochs, on %s%s\n",
              job.getName().cStr(), static_cast<long long>(data.train.size()),
              data.test ? (", " + std::to_string(data.test->size()) + " test").c_str() : "",
              trainer.backend().size(), job.getBatchSize(), job.getEpochs(), device.c_str(),
              device == "cpu" ? (" with " + std::to_string(o.threads) + " thread(s)").c_str() : "");
  const std::string save = o.save.empty() ? std::string(job.getName().cStr()) + ".params" : o.save;
  // The metrics history goes beside the parameters (tfmath metrics prints it); a resumed run
  // continues it.
  MetricsFileWriter metrics(metricsPathFor(save), !o.resume.empty());
  MetricsRecorder recorder(0, [&](proto::MetricsPoint::Reader p) { metrics.append(p); });
  ProgressPrinter progress(stdout, isatty(STDOUT_FILENO), job.getEpochs());
  Observers observers({&progress, &recorder});
  trainer.run(observers);

  const Evaluation eval =
      std::isnan(trainer.lastEvaluation().loss) ? trainer.evaluate() : trainer.lastEvaluation();
  std::printf("final: train loss %.4f  %s loss %.4f", trainer.trainLoss(),
              eval.onTestSet ? "test" : "train-set", eval.loss);
  if (classification) std::printf("  test accuracy %.2f%%", 100.0 * eval.accuracy);
  std::printf("  %.0f samples/s\n", trainer.samplesPerSecond());
  capnp::MallocMessageBuilder message;
  trainer.saveState(message.initRoot<proto::ParameterState>(), eval);
  if (auto values = learnedValues(message.getRoot<proto::ParameterState>().asReader());
      !values.empty())
    std::printf("learned: %s\n", values.c_str());
  saveParameterState(save, message);
  std::printf("parameters saved to %s, metrics to %s\n", save.c_str(), metrics.path().c_str());
  if (!o.report.empty()) reportFromFile(save, o.report);
  return 0;
}

}  // namespace

Command addRunCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Train a job in this process (no cluster)");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("job", o->job, "The job file (.capnp)")->required();
  cmd->add_option("--save", o->save, "Where to write the trained parameters (default NAME.params)");
  cmd->add_option("--set", o->overrides,
                  "PATH=VALUE: change one field of the job, e.g. optimizer.sgd.learningRate=0.01 "
                  "or model[1].dense.units=512 (repeatable)");
  auto* resume = cmd->add_option("--resume", o->resume,
                                 "Continue from a saved parameter-state file (from either device)");
  cmd->add_option("--init-from", o->initFrom,
                  "Start from the trained parameters in this file (fine-tuning): the step, the "
                  "epoch and the optimizer start afresh")
      ->excludes(resume);
  cmd->add_option("--report", o->report,
                  "Then write the run's report into this folder (tfmath report)");
  cmd->add_option("--device", o->device, "Where to train: cpu, or gpu:N (a build with CUDA)")
      ->capture_default_str();
  addThreadsOption(cmd, o->threads);
  return {cmd, [o] {
            try {
              return run(*o);
            } catch (const JobError& e) {
              std::fprintf(stderr, "tfmath run: %s\n", e.what());
              return 2;
            } catch (const std::exception& e) {
              std::fprintf(stderr, "tfmath run: error: %s\n", e.what());
              return 1;
            }
          }};
}

}  // namespace tfmath::cli
