#include "registry.h"

#include <gtest/gtest.h>

namespace stash::api {
namespace {

TEST(VersionBeforeTest, KubernetesPriorityOrder) {
  std::vector<std::string> v = {"v1alpha1", "foo", "v1beta1", "v2", "v1", "v11alpha2", "v1beta2"};
  std::sort(v.begin(), v.end(), VersionBefore);
  EXPECT_EQ(v, (std::vector<std::string>{"v2", "v1", "v1beta2", "v1beta1", "v11alpha2", "v1alpha1",
                                         "foo"}));
}

TEST(RegistryTest, CrdsAddAndRemoveResources) {
  Registry r;
  EXPECT_TRUE(r.Find("", "v1", "secrets").has_value());
  EXPECT_FALSE(r.Find("stash.appscode.com", "v1beta1", "backupconfigurations").has_value());
  json crd = {{"spec",
               {{"group", "stash.appscode.com"},
                {"scope", "Namespaced"},
                {"names",
                 {{"plural", "backupconfigurations"},
                  {"kind", "BackupConfiguration"},
                  {"shortNames", {"bc"}}}},
                {"versions",
                 {{{"name", "v1beta1"},
                   {"served", true},
                   {"storage", true},
                   {"subresources", {{"status", json::object()}}}},
                  {{"name", "v1alpha1"}, {"served", false}}}}}}};
  r.SetCrds({crd});
  auto bc = r.Find("stash.appscode.com", "v1beta1", "backupconfigurations");
  ASSERT_TRUE(bc.has_value());
  EXPECT_TRUE(bc->status_subresource);
  EXPECT_EQ(bc->singular, "backupconfiguration");
  EXPECT_EQ(bc->short_names, std::vector<std::string>{"bc"});
  EXPECT_FALSE(r.Find("stash.appscode.com", "v1alpha1", "backupconfigurations").has_value());
  r.SetCrds({});
  EXPECT_FALSE(r.Find("stash.appscode.com", "v1beta1", "backupconfigurations").has_value());
}

}  // namespace
}  // namespace stash::api
