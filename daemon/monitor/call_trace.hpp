// Where one operation's time went in the kernel: the writes that make the
// kernel act (the file, the value, how long it took, how often EBUSY sent
// it back), the files staged before them and the reads summed. Written by the context's thread during the operation, read on the
// manager's thread after the operation's end was handed over (which orders
// the two), so it needs no lock.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace damond {

class CallTrace {
public:
    using Duration = std::chrono::steady_clock::duration;

    void clear();
    void wrote(std::string file, std::string value, Duration took, int busy);
    void read(Duration took);
    // "pause=Y 0.2 ms, state=commit 231.4 ms (EBUSY x3); 34 files staged
    // 3.1 ms; 212 reads 40.1 ms", "" when the operation made no call.
    std::string text() const;

private:
    struct Write {
        std::string file, value;
        Duration took;
        int busy;
    };
    std::vector<Write> writes_;
    int reads_ = 0;
    Duration read_time_{};
};

}  // namespace damond
