# Packer 1.7 and later load the Amazon builder as a plugin: `packer init ami/packer` installs it from this block.
# (Packer 1.6, as packaged by Debian, has the builder built in; validate worker.pkr.hcl alone with it.)
packer {
  required_version = ">= 1.6.6"

  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0, < 2.0.0"
    }
  }
}
