#include "base/log.hpp"

#include <sys/stat.h>
#include <sys/uio.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <systemd/sd-journal.h>

#include "base/after_call.hpp"

namespace damond {

namespace {

// True when stderr is the very stream systemd connected to the journal:
// $JOURNAL_STREAM is "<device>:<inode>" of it.
bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (!stream) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (fstat(2, &st) != 0) return false;
    return st.st_dev == dev && st.st_ino == ino;
}

void write_entry(int priority, const std::string& message, const LogFields& fields);

}  // namespace

std::vector<std::string> journal_fields(int priority, const std::string& message, const LogFields& fields) {
    std::vector<std::string> out{"PRIORITY=" + std::to_string(priority), "MESSAGE=" + message,
                                 "SYSLOG_IDENTIFIER=damond"};
    if (fields.message_id) out.push_back(std::string("MESSAGE_ID=") + fields.message_id);
    if (!fields.context.empty()) out.push_back("CONTEXT=" + fields.context);
    if (!fields.app.empty()) out.push_back("APP=" + fields.app);
    if (fields.kdamond >= 0) out.push_back("KDAMOND=" + std::to_string(fields.kdamond));
    return out;
}

void log_at(int priority, const std::string& message, const LogFields& fields) {
    after_call([priority, message, fields] { write_entry(priority, message, fields); });
}

namespace {

void write_entry(int priority, const std::string& message, const LogFields& fields) {
    static const bool journal = stderr_is_journal();
    if (journal) {
        const std::vector<std::string> f = journal_fields(priority, message, fields);
        std::vector<iovec> iov;
        for (const std::string& s : f) iov.push_back({const_cast<char*>(s.data()), s.size()});
        if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) == 0) return;
    }
    std::cerr << "<" << priority << ">damond: " << message << std::endl;
}

}  // namespace

}  // namespace damond
