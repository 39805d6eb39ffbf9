#include "options.hpp"

#include "manager/config.hpp"

#include <stdexcept>

namespace damond {

const char* usage_text() {
    return "Usage: damond [--config PATH] [--backend auto|inprocess|kernel] [--bus system|session]\n"
           "              [--sysfs-root PATH] [--modules-root PATH] [--kernel-release RELEASE]\n"
           "              [--cgroup-root PATH] [--kpagecgroup PATH]\n"
           "              [--kdamonds N] [--state-dir PATH] [--state-deadline-ms MS]\n"
           "\n"
           "Publishes DAMON monitoring contexts on D-Bus as org.damond1.\n"
           "The system bus address is taken from DBUS_SYSTEM_BUS_ADDRESS when set.\n"
           "SIGHUP reloads the config file; SIGTERM stops.\n"
           "--sysfs-root (default /sys/kernel/mm/damon/admin), --modules-root (default /sys/module)\n"
           "and --kernel-release point damond at another DAMON tree, such as an emulator's;\n"
           "--cgroup-root (default /sys/fs/cgroup) and --kpagecgroup (default /proc/kpagecgroup)\n"
           "at another cgroupfs and page-to-cgroup file (memory by cgroup).\n"
           "--kdamonds N sizes the kernel backend's pool (default: the config's contexts + 2 x\n"
           "apps.max_apps); --state-deadline-ms (default 10000) bounds every sysfs read and write.\n";
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::string value;
        const auto eq = arg.find('=');
        const bool inline_value = arg.rfind("--", 0) == 0 && eq != std::string::npos;
        if (inline_value) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        auto take = [&]() -> std::string {
            if (inline_value) return value;
            if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h")
            o.help = true;
        else if (arg == "--version")
            o.version = true;
        else if (arg == "--config")
            o.config_path = take();
        else if (arg == "--sysfs-root")
            o.sysfs_root = take();
        else if (arg == "--modules-root")
            o.modules_root = take();
        else if (arg == "--cgroup-root")
            o.cgroup_root = take();
        else if (arg == "--kpagecgroup")
            o.kpagecgroup = take();
        else if (arg == "--kernel-release")
            o.kernel_release = take();
        else if (arg == "--state-dir")
            o.state_dir = take();
        else if (arg == "--kdamonds" || arg == "--state-deadline-ms") {
            const std::string v = take();
            unsigned long n = 0;
            try {
                n = std::stoul(v);
            } catch (const std::exception&) {
                throw std::invalid_argument(arg + " must be a number, not '" + v + "'");
            }
            if (arg == "--kdamonds") {
                if (n == 0 || n > kMaxKdamonds)
                    throw std::invalid_argument(arg + " must be between 1 and " + std::to_string(kMaxKdamonds));
                o.kdamonds = static_cast<uint32_t>(n);
            } else {
                if (n == 0 || n > 1000000) throw std::invalid_argument(arg + " must be between 1 and 1000000");
                o.state_deadline_ms = static_cast<uint32_t>(n);
            }
        } else if (arg == "--backend") {
            const std::string word = take();
            o.backend = backend_choice_from(word);
            if (!o.backend)
                throw std::invalid_argument("--backend must be auto, inprocess or kernel, not '" + word + "'");
        } else if (arg == "--bus") {
            o.bus = take();
            if (o.bus != "system" && o.bus != "session")
                throw std::invalid_argument("--bus must be system or session, not '" + o.bus + "'");
        } else {
            throw std::invalid_argument("unknown option '" + arg + "'");
        }
    }
    return o;
}

}  // namespace damond
