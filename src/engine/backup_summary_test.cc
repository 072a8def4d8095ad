#include "stash/engine/backup_summary.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"

namespace stash::engine {
namespace {

TEST(Summary, OneStructPrintsAsTextOrJsonAndParsesBack) {
  BackupStats s;
  s.files_new = 1;
  s.data_added = 1234;
  s.total_files_processed = 1;
  s.total_bytes_processed = 12;
  s.seconds = 0.25;
  s.snapshot_id = *Id::FromHex(std::string(64, 'a'));
  std::string line = FormatBackupSummary(s, SummaryFormat::kJson, false);
  EXPECT_NE(line.find("\"snapshot_id\":\"aaaaaaaa\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"total_duration\":0.25"), std::string::npos) << line;
  std::string prefix;
  auto back = ParseBackupSummaryJson("{\"message_type\":\"status\",\"percent_done\":0.5}\n" + line,
                                     &prefix);
  ASSERT_OK(back);
  EXPECT_EQ(prefix, "aaaaaaaa");
  EXPECT_EQ(back->files_new, 1u);
  EXPECT_EQ(back->data_added, 1234u);
  EXPECT_EQ(back->seconds, 0.25);
  EXPECT_FALSE(ParseBackupSummaryJson("{\"message_type\":\"status\"}\n", &prefix).ok());
  std::string text = FormatBackupSummary(s, SummaryFormat::kText, false);
  EXPECT_NE(text.find("Files:           1 new,     0 changed,     0 unmodified\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("snapshot aaaaaaaa saved\n"), std::string::npos);
  EXPECT_EQ(FormatBackupSummary(s, SummaryFormat::kText, true).find("saved"), std::string::npos);
}

}  // namespace
}  // namespace stash::engine
