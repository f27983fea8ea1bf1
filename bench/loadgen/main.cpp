// omw-bench: the load generator and benchmark scenarios for omw-server.

#include "harness.h"

#include <signal.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>

#ifndef OMW_BENCH_SERVER
#define OMW_BENCH_SERVER "omw-server"
#endif

namespace {

const char usage[] = R"(Usage: omw-bench SCENARIO [OPTIONS] [-- SERVER-OPTIONS...]

Starts omw-server pinned to one CPU, runs the scenario from generator processes pinned to the
other, and prints one JSON line and one human-readable line per result.

Scenarios:
  fanout      riders send points at --rate for --duration; followers measure delivery
  saturation  one rate step after another at --followers, until p99 passes --p99-limit
  idle        server RSS per idle follower, one fresh server per count in --connections
  churn       connects plus joins per second, each connection closed once joined

Options:
  --server PATH          omw-server binary (default: the one built with this tree)
  --rides N              rides, one rider connection each (default 1)
  --followers N          followers per ride (fanout 1000, saturation 10000)
  --rate HZ              points per second per rider (default 10)
  --rates HZ,HZ,...      saturation steps (default 10,20,30,40,50,60,80,100,150,200)
  --duration S           seconds of sending per step, or of churn (fanout 30, saturation 5,
                         churn 10)
  --drain S              seconds to wait for the last frames of a step (default 5)
  --p99-limit MS         saturation: p99 latency a kept rate stays under (default 100)
  --keep-going           saturation: run every step even after one missed the limit
  --connections N,N,...  idle: follower counts (default 1000,10000,19000)
  --settle S             idle: seconds from the last join to the RSS reading (default 3)
  --concurrency N        churn: connections in progress per process (default 256)
  --slow-followers N     fanout: followers per ride that stop reading once joined (default 0);
                         the others are measured as usual
  --processes N          generator processes (default: one per 15,000 connections)
  --source-addresses N   client source addresses from 127.0.0.2 (default 254)
  --server-cpu N         CPU for the server, -1 for none (default 1)
  --generator-cpu N      CPU for the generator, -1 for none (default 0)
  --nice N               niceness of the server and the generator, -20 to 19 (default 0);
                         a negative value gives them their cores ahead of other processes
  --server-log PATH      the server's stderr (default /tmp/omw-bench-server.log)
  --server-logging RULES QT_LOGGING_RULES for the server (default: info of omw.server only)

Everything after "--" is passed to the server after the options that lift its limits.
)";

bool parseDoubles(const char *text, std::vector<double> &values)
{
    values.clear();
    std::stringstream items(text);
    std::string item;
    while (std::getline(items, item, ',')) {
        char *end = nullptr;
        const double value = std::strtod(item.c_str(), &end);
        if (item.empty() || *end != '\0' || !(value > 0))
            return false;
        values.push_back(value);
    }
    return !values.empty();
}

// The niceness of the calling process's autogroup, from "/autogroup-7 nice 0"; nothing when
// the kernel has no autogroup scheduling.
std::optional<int> autogroupNice()
{
    std::FILE *file = std::fopen("/proc/self/autogroup", "r");
    if (!file)
        return std::nullopt;
    int nice = 0;
    const bool parsed = std::fscanf(file, "%*s nice %d", &nice) == 1;
    std::fclose(file);
    return parsed ? std::optional<int>(nice) : std::nullopt;
}

void setAutogroupNice(int nice)
{
    std::FILE *file = std::fopen("/proc/self/autogroup", "w");
    if (!file) {
        std::fprintf(stderr, "omw-bench: cannot set the autogroup niceness: %s\n",
                     std::strerror(errno));
        return;
    }
    std::fprintf(file, "%d", nice);
    std::fclose(file);
}

} // namespace

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        std::fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    OmwBench::Options options;
    std::optional<int> previousAutogroupNice;
    options.scenario = argv[1];
    options.serverProgram = OMW_BENCH_SERVER;
    if (options.scenario == "saturation") {
        options.followers = 10000;
        options.duration = 5;
        options.rates = {10, 20, 30, 40, 50, 60, 80, 100, 150, 200};
    } else if (options.scenario == "idle") {
        options.connections = {1000, 10000, 19000};
    } else if (options.scenario == "churn") {
        options.duration = 10;
    } else if (options.scenario != "fanout") {
        std::fprintf(stderr,
                     "omw-bench: unknown scenario \"%s\": expected fanout, saturation, "
                     "idle or churn\n",
                     argv[1]);
        return 2;
    }

    for (int i = 2; i < argc; ++i) {
        const std::string option = argv[i];
        if (option == "--") {
            for (++i; i < argc; ++i)
                options.serverArguments.push_back(argv[i]);
            break;
        }
        if (option == "--keep-going") {
            options.keepGoing = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "omw-bench: option %s needs a value; see --help\n",
                         option.c_str());
            return 2;
        }
        const char *value = argv[++i];
        char *end = nullptr;
        const double number = std::strtod(value, &end);
        const bool isNumber = *value != '\0' && *end == '\0';
        auto needNumber = [&](double minimum) {
            if (isNumber && number >= minimum)
                return true;
            std::fprintf(stderr,
                         "omw-bench: invalid value \"%s\" for %s: expected a number of "
                         "at least %g\n",
                         value, option.c_str(), minimum);
            return false;
        };
        if (option == "--server") {
            options.serverProgram = value;
        } else if (option == "--server-log") {
            options.serverLog = value;
        } else if (option == "--server-logging") {
            options.serverLoggingRules = value;
        } else if (option == "--rates" || option == "--connections") {
            std::vector<double> values;
            if (!parseDoubles(value, values)) {
                std::fprintf(stderr,
                             "omw-bench: invalid value \"%s\" for %s: expected positive "
                             "numbers separated by commas\n",
                             value, option.c_str());
                return 2;
            }
            if (option == "--rates") {
                options.rates = values;
            } else {
                options.connections.clear();
                for (const double count : values)
                    options.connections.push_back(int(count));
            }
        } else if (option == "--rate") {
            if (!needNumber(0.01))
                return 2;
            options.rates = {number};
        } else if (option == "--rides") {
            if (!needNumber(1))
                return 2;
            options.rides = int(number);
        } else if (option == "--followers") {
            if (!needNumber(1))
                return 2;
            options.followers = int(number);
        } else if (option == "--duration") {
            if (!needNumber(0.1))
                return 2;
            options.duration = number;
        } else if (option == "--drain") {
            if (!needNumber(0.1))
                return 2;
            options.drainTimeout = number;
        } else if (option == "--p99-limit") {
            if (!needNumber(0.01))
                return 2;
            options.p99Limit = number;
        } else if (option == "--settle") {
            if (!needNumber(0))
                return 2;
            options.settle = number;
        } else if (option == "--concurrency") {
            if (!needNumber(1))
                return 2;
            options.concurrency = int(number);
        } else if (option == "--slow-followers") {
            if (!needNumber(0))
                return 2;
            options.slowFollowers = int(number);
        } else if (option == "--processes") {
            if (!needNumber(1))
                return 2;
            options.processes = int(number);
        } else if (option == "--source-addresses") {
            if (!needNumber(1) || number > 254) {
                std::fprintf(stderr, "omw-bench: --source-addresses takes 1 to 254\n");
                return 2;
            }
            options.sourceAddresses = int(number);
        } else if (option == "--server-cpu") {
            if (!needNumber(-1))
                return 2;
            options.serverCpu = int(number);
        } else if (option == "--nice") {
            if (!needNumber(-20) || number > 19) {
                std::fprintf(stderr, "omw-bench: --nice takes -20 to 19\n");
                return 2;
            }
            options.niceness = int(number);
        } else if (option == "--generator-cpu") {
            if (!needNumber(-1))
                return 2;
            options.generatorCpu = int(number);
        } else {
            std::fprintf(stderr, "omw-bench: unknown option %s; see --help\n", option.c_str());
            return 2;
        }
    }

    if (options.niceness != 0) {
        if (setpriority(PRIO_PROCESS, 0, options.niceness) != 0) {
            std::fprintf(stderr, "omw-bench: cannot set niceness %d: %s\n", options.niceness,
                         std::strerror(errno));
            return 2;
        }
        // With autogroup scheduling, niceness only ranks processes of one session against
        // each other; the session's own niceness ranks it against other sessions. It is put
        // back when the scenario ends.
        previousAutogroupNice = autogroupNice();
        if (previousAutogroupNice)
            setAutogroupNice(options.niceness);
    }
    int result = 0;
    if (options.scenario == "fanout")
        result = OmwBench::runFanout(options, false);
    else if (options.scenario == "saturation")
        result = OmwBench::runFanout(options, true);
    else if (options.scenario == "idle")
        result = OmwBench::runIdle(options);
    else
        result = OmwBench::runChurn(options);
    if (previousAutogroupNice)
        setAutogroupNice(*previousAutogroupNice);
    return result;
}
