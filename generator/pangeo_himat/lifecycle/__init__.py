"""The cluster lifecycle: plans of eksctl/helm/kubectl/aws commands, and running them."""
