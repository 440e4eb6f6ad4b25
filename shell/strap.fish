# strap shell integration for fish: strap init fish | source
set -gx STRAP_ROOT @ROOT@
set -gx STRAP_SHELL fish
set -gx PATH @SHIMS@ (string match -v -- @SHIMS@ $PATH)

function strap
    if test (count $argv) -gt 0; and test "$argv[1]" = shell
        switch "$argv[2]"
            case -h --help
                command strap shell --help
            case '*'
                # Through `source`, not `eval`: `eval` would run the lines as one.
                set -l __strap_code (command strap sh-shell --shell fish $argv[2..-1])
                and string join \n -- $__strap_code | source
        end
    else
        # Unlike bash and zsh, fish remembers no command locations: nothing to clear after a
        # rehash, install or uninstall.
        command strap $argv
    end
end

command strap completions fish | source
