package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spindle-rt/spindle/internal/config"
	"github.com/spindle-rt/spindle/internal/realtime/auth"
	"github.com/spindle-rt/spindle/internal/version"
)

func newCheckConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checkconfig",
		Short: "Validate a configuration file and report every problem with its key and line",
		Long: "Validates config.json (and, with --app, a .rr.yaml too). Given both, it also checks that they\n" +
			"agree: every proxy endpoint reaches centrifuge.proxy_address, and centrifuge.grpc_api_address\n" +
			"reaches the server's gRPC API. Exit status 1 on any problem.",
		Args: cobra.NoArgs,
	}
	file := addConfigFlag(cmd)
	appFile := cmd.Flags().String("app", "", "application server configuration (.rr.yaml) to check against the server's")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *file == "" && *appFile == "" {
			return errors.New("checkconfig needs --config FILE (and optionally --app .rr.yaml)")
		}
		var srv *config.Config
		if *file != "" {
			var err error
			if srv, err = loadConfig(cmd, *file, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: configuration is valid\n", *file)
		}
		if *appFile == "" {
			return nil
		}
		appCfg, warnings, err := config.LoadApp(*appFile, os.Environ())
		for _, w := range warnings {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: configuration is valid\n", *appFile)
		if srv == nil {
			return nil
		}
		problems, notes := config.CrossCheck(srv, appCfg)
		for _, n := range notes {
			fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
		}
		if len(problems) > 0 {
			return fmt.Errorf("%s and %s do not agree:\n  %s", *file, *appFile, strings.Join(problems, "\n  "))
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s and %s agree on each other's addresses\n", *file, *appFile)
		return nil
	}
	return cmd
}

func newGenConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "genconfig",
		Short: "Write a minimal working configuration with fresh secrets",
		Args:  cobra.NoArgs,
	}
	out := cmd.Flags().StringP("config", "c", "config.json", "file to write (format from extension: .json, .yaml, .toml)")
	force := cmd.Flags().Bool("force", false, "overwrite an existing file")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if _, err := os.Stat(*out); err == nil && !*force {
			return fmt.Errorf("%s already exists (use --force to overwrite)", *out)
		}
		format := strings.TrimPrefix(filepath.Ext(*out), ".")
		data, err := config.Generate(format)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s written\n", *out)
		return nil
	}
	return cmd
}

func newGenTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gentoken",
		Short: "Print an HS256 connection token signed with the configured token_hmac_secret_key",
		Args:  cobra.NoArgs,
	}
	file := addConfigFlag(cmd)
	user := cmd.Flags().StringP("user", "u", "", "user id (sub claim); required, -u '' for an anonymous token")
	ttl := cmd.Flags().DurationP("ttl", "t", 7*24*time.Hour, "token lifetime (0: never expires)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := requireUser(cmd); err != nil {
			return err
		}
		secret, err := hmacSecret(cmd, *file)
		if err != nil {
			return err
		}
		tok, err := auth.GenerateConnectToken(secret, *user, *ttl, nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), tok)
		return nil
	}
	return cmd
}

func newGenSubTokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gensubtoken",
		Short: "Print an HS256 subscription token for a channel",
		Args:  cobra.NoArgs,
	}
	file := addConfigFlag(cmd)
	user := cmd.Flags().StringP("user", "u", "", "user id (sub claim); required, -u '' for an anonymous subscriber")
	channel := cmd.Flags().StringP("channel", "s", "", "channel")
	ttl := cmd.Flags().DurationP("ttl", "t", 7*24*time.Hour, "token lifetime (0: never expires)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *channel == "" {
			return errors.New("gensubtoken needs --channel")
		}
		if err := requireUser(cmd); err != nil {
			return err
		}
		cfg, err := loadConfig(cmd, *file, nil)
		if err != nil {
			return err
		}
		secret := cfg.SubToken.HMACSecretKey
		if secret == "" {
			return errors.New("no subscription token HMAC secret in the configuration (token_hmac_secret_key or subscription_token_hmac_secret_key)")
		}
		tok, err := auth.GenerateSubscribeToken(secret, *user, *channel, *ttl, nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), tok)
		return nil
	}
	return cmd
}

// requireUser refuses to sign a token nobody asked a user for: a token for
// the empty user connects anonymously, which should be a choice, not what
// a forgotten -u does.
func requireUser(cmd *cobra.Command) error {
	if !cmd.Flags().Changed("user") {
		return fmt.Errorf("%s needs --user (-u ID; -u '' signs a token for an anonymous user)", cmd.Name())
	}
	return nil
}

func hmacSecret(cmd *cobra.Command, file string) (string, error) {
	cfg, err := loadConfig(cmd, file, nil)
	if err != nil {
		return "", err
	}
	if cfg.Token.HMACSecretKey == "" {
		return "", errors.New("no token_hmac_secret_key in the configuration")
	}
	return cfg.Token.HMACSecretKey, nil
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "spindle %s\n", version.Version)
		},
	}
}
